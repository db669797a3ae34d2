import type { Account, FindAccount } from 'oidc-provider';
import type { Accounts, User } from '../accounts/accounts.ts';
import type { RequiredAction } from '../accounts/required-actions.ts';
import { keycloakIdTokenClaims } from './keycloak-claims.ts';
import { clientFlag, clientProperty } from './client-metadata.ts';
import type { CustomAttributes } from '../accounts/custom-attributes.ts';
import { NO_CLAIM_SCOPES, scopeWords, type ClaimMapping } from '../claims/mapped-claims.ts';

/** A user as the protocol layer sees them: the stable `sub` and their standard claims. */
export interface AccountProfile {
  readonly sub: string;
  /** OpenID standard claims plus `roles` and `groups`; the provider filters them by scope. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The user has a second factor (app or passkey): the sign-in asks for it. Never a claim. */
  readonly secondFactor?: boolean;
  /** Set while the user's email address is unconfirmed: whether they registered themselves. Never a claim. */
  readonly unverifiedEmail?: 'self-registered' | 'other';
  /** The user's custom attributes (never claims themselves: claim scopes map them, src/claims/mapped-claims.ts). */
  readonly attributes?: CustomAttributes;
  /** What the user must do before any application gets tokens (src/accounts/required-actions.ts); absent: nothing. Never a claim. */
  readonly requiredActions?: readonly RequiredAction[];
}

export interface AccountDirectory {
  /**
   * The profile of an active user; undefined for unknown or disabled users. A cached profile may
   * come at once, without a promise (src/oidc/account-cache.ts): callers await it either way.
   */
  findActive(sub: string): Promise<AccountProfile | undefined> | AccountProfile | undefined;
}

/**
 * oidc-provider's findAccount: a disabled or deleted user resolves to nothing, so their
 * sessions, refresh tokens and userinfo calls stop working at once.
 */
export function findAccount(accounts: AccountDirectory, mapping: ClaimMapping = NO_CLAIM_SCOPES): FindAccount {
  return async (ctx, sub): Promise<Account | undefined> => {
    const profile = await accounts.findActive(sub);
    if (profile === undefined) return undefined;
    const client = ctx.oidc.client;
    return {
      accountId: profile.sub,
      // Read by the second-factor step's prompt check (src/interactions/steps/second-factor.ts)
      // without another store read; not a claim, so never released.
      secondFactor: profile.secondFactor === true,
      // Read by the email-verification step's prompt check (src/interactions/steps/verify-email.ts).
      unverifiedEmail: profile.unverifiedEmail,
      // Read by the required-actions step's prompt check and the password grant (src/interactions/steps/required-actions.ts).
      requiredActions: profile.requiredActions ?? [],
      // A minimal ID token still carries what the `claims` parameter asked for by name.
      // A Keycloak-claims client's ID token also carries azp and the roles (the openid scope releases them).
      // Every use but the ID token's reads the same object for every request of a profile
      // (userinfoClaims); the library copies it before it adds to it (helpers/account_claims.js).
      // Claim scopes' claims (src/claims/) only for the scopes of this token: never through the
      // claims parameter alone, so a client not allowed the scope cannot name its claims instead.
      claims: (use, scope, requested) => {
        const scopes = scopeWords(scope);
        const mappedUse = use === 'id_token' ? 'id_token' : 'userinfo';
        const mapped = mapping.reaches(mappedUse, scopes) ? mapping.claimsFor(mappedUse, scopes, profile.attributes) : undefined;
        if (use !== 'id_token') return mapped === undefined ? userinfoClaims(profile) : { ...mapped, ...userinfoClaims(profile) };
        const minimal = clientFlag(client, 'minimal_id_token');
        const claims = minimal ? pick(profile.claims, Object.keys(requested ?? {})) : profile.claims;
        const keycloak = clientProperty(client, 'token_claims') === 'keycloak' ? keycloakIdTokenClaims(profile.claims, client?.clientId) : {};
        return { ...(minimal && mapped !== undefined ? pick(mapped, Object.keys(requested ?? {})) : mapped), ...claims, ...keycloak, sub: profile.sub };
      },
    };
  };
}

/** A profile's claims with its `sub`, built once per profile object (profiles are cached, src/oidc/account-cache.ts) and frozen. */
type ClaimsWithSub = Readonly<Record<string, unknown>> & { readonly sub: string };
const claimsWithSub = new WeakMap<AccountProfile, ClaimsWithSub>();

function userinfoClaims(profile: AccountProfile): { sub: string } {
  let claims = claimsWithSub.get(profile);
  if (claims === undefined) {
    claims = Object.freeze({ ...profile.claims, sub: profile.sub });
    claimsWithSub.set(profile, claims);
  }
  return claims;
}

function pick(claims: Readonly<Record<string, unknown>>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.filter((name) => name in claims).map((name) => [name, claims[name]]));
}

/** The claims Gatehouse releases for a user, keyed as OpenID Connect names them. */
export function profileOf(user: User): AccountProfile {
  const { phone_number_verified: _verified, ...attributes } = user.attributes;
  const claims: Record<string, unknown> = {
    ...attributes,
    preferred_username: user.username,
    roles: [...user.roles],
    groups: [...user.groups],
    updated_at: Math.floor(user.updatedAt.getTime() / 1000),
  };
  if (user.name !== null) claims.name = user.name;
  if (user.givenName !== null) claims.given_name = user.givenName;
  if (user.familyName !== null) claims.family_name = user.familyName;
  if (user.email !== null) {
    claims.email = user.email;
    claims.email_verified = user.emailVerified;
  }
  if (attributes.phone_number !== undefined) claims.phone_number_verified = user.attributes.phone_number_verified === true;
  const unverifiedEmail = user.email === null || user.emailVerified ? undefined : user.selfRegistered ? 'self-registered' : 'other';
  // A password change means nothing to a user without a password, a confirmation nothing without an address: they stay, unasked.
  const requiredActions = user.requiredActions.filter((action) => (action !== 'update_password' || user.hasPassword) && (action !== 'verify_email' || user.email !== null));
  return {
    sub: user.id,
    claims,
    secondFactor: user.secondFactor,
    ...(unverifiedEmail === undefined ? {} : { unverifiedEmail }),
    ...(Object.keys(user.customAttributes).length === 0 ? {} : { attributes: user.customAttributes }),
    ...(requiredActions.length === 0 ? {} : { requiredActions }),
  };
}

/** The account service seen through the protocol's narrow interfaces. */
export function accountDirectory(accounts: Pick<Accounts, 'findById'>): AccountDirectory {
  return {
    async findActive(sub) {
      const user = await accounts.findById(sub);
      return user === undefined || user.disabled ? undefined : profileOf(user);
    },
  };
}
