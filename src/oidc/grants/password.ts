import { errors, type Account, type KoaContextWithOIDC } from 'oidc-provider';
import { HashQueueFullError } from '../../accounts/errors.ts';
import { undoneActions, type RequiredActionFlags } from '../../accounts/required-actions.ts';
import { invalidGrant } from './invalid-grant.ts';
import { requestProof, spendProof } from './dpop-binding.ts';
import { ACR_PASSWORD } from '../acr.ts';
import { findAccount, type AccountDirectory } from '../accounts.ts';
import { openIdScopeTest } from '../claims.ts';
import { NO_CLAIM_SCOPES, scopeWords, type ClaimMapping } from '../../claims/mapped-claims.ts';
import { defaultScopesOf, withDefaultScopes } from '../default-scopes.ts';
import { clientFlag, clientProperty, PASSWORD_GRANT } from '../client-metadata.ts';
import type { resourceIndicators } from '../resource-servers.ts';
import type { AuditSink } from '../../observability/audit-trail.ts';

export type PasswordCheck = (
  login: string,
  password: string,
  ip: string,
  clientId: string,
) => Promise<{ readonly ok: true; readonly sub: string; readonly username?: string } | { readonly ok: false }>;

/** Whether the verified-email rule stops this user (src/interactions/steps/verify-email.ts). */
export type UnconfirmedEmailCheck = (account: Account) => Promise<boolean>;

/** Whether a user must show a second factor to sign in to a client (with `require_mfa` or not). */
export type SecondFactorCheck = (account: Account, clientRequires: boolean) => Promise<boolean>;

export interface PasswordGrantDeps {
  /** The hosted sign-in's account rules (argon2id through the hash pool, lockout, attempt limits), marked as this grant. */
  readonly checkPassword: PasswordCheck;
  readonly accounts: AccountDirectory;
  readonly resources: ReturnType<typeof resourceIndicators>;
  /** The provider's claim scopes (src/claims/): OpenID scopes here, as at the code flow, and their claims in the ID token. */
  readonly mapping?: ClaimMapping | undefined;
  /** Whether the user must use a second factor here (src/mfa/needs-second-factor.ts); such users are refused. */
  readonly needsSecondFactor?: SecondFactorCheck | undefined;
  /** Whether the user must confirm their email address first (GATEHOUSE_REQUIRE_VERIFIED_EMAIL); such users are refused. */
  readonly emailUnconfirmed?: UnconfirmedEmailCheck | undefined;
  /** Whether confirmation links can be mailed (SMTP): `verify_email` refuses a user only then, as the hosted sign-in asks for it only then. */
  readonly mailAvailable?: boolean | undefined;
  readonly audit?: AuditSink | undefined;
  /** Gatehouse's clock in milliseconds (src/clock.ts): when the user signed in (auth_time). */
  readonly now?: (() => number) | undefined;
}

export const parameters = new Set(['username', 'password', 'scope', 'resource']);

/** One answer for a wrong password, an unknown user, a disabled user and a locked account. */
const REFUSED = 'invalid username or password';
/** Said only after the right password, as the hosted sign-in's confirmation page is. */
const EMAIL_UNCONFIRMED = 'this user must confirm their email address first: open the link in the confirmation email (signing in on the hosted page sends a new one)';
/** Said only after the right password, in Keycloak's words first (its answer to a user with required actions). */
const NOT_SET_UP = 'Account is not fully set up: this user has required actions to do (a password change, for example), which only the hosted sign-in can ask for: use the authorization code flow';
/** Said only after the right password: the grant has no step to ask for the second factor. */
const SECOND_FACTOR = 'this user must sign in with a second factor, which the password grant cannot ask for: use the authorization code flow';

function required(ctx: KoaContextWithOIDC, name: 'username' | 'password'): string {
  const value = ctx.oidc.params?.[name];
  if (typeof value !== 'string' || value === '') throw new errors.InvalidRequest(`missing required parameter '${name}'`);
  return value;
}

function unavailable(ctx: KoaContextWithOIDC, error: HashQueueFullError): never {
  ctx.set('Retry-After', String(error.retryAfterSeconds ?? 1));
  const refusal = new errors.CustomOIDCProviderError('temporarily_unavailable', 'too many sign-ins at once, retry shortly');
  Object.assign(refusal, { status: 503, statusCode: 503, expose: true });
  throw refusal;
}

/**
 * Resource-owner password credentials (RFC 6749 §4.3) for confidential first-party clients
 * that opted in with `allow_password_grant`. The account rules are the hosted sign-in's; the
 * tokens are those of a code-flow sign-in with `amr: ["pwd"]`, under a grant of their own, so
 * the refresh grant, introspection and revocation treat them like any other. A request with a DPoP
 * proof gets a DPoP-bound access token (RFC 9449), as at the code flow.
 */
export function passwordGrant({ checkPassword, accounts, resources, mapping = NO_CLAIM_SCOPES, needsSecondFactor, emailUnconfirmed, mailAvailable = false, audit, now = Date.now }: PasswordGrantDeps) {
  const account = findAccount(accounts, mapping);
  const isOpenIdScope = openIdScopeTest(mapping);
  return async function passwordGrantHandler(ctx: KoaContextWithOIDC): Promise<void> {
    const { provider } = ctx.oidc;
    const client = ctx.oidc.client!;
    // grant_types carries `password` only with the flag (client-metadata.ts); checked again here.
    if (!clientFlag(client, 'allow_password_grant')) throw new errors.UnauthorizedClient('the password grant is not enabled for this client');
    const username = required(ctx, 'username');
    const password = required(ctx, 'password');
    // As at the library's grants: a bad proof is refused before anything else (invalid_dpop_proof,
    // a replay invalid_grant), so it costs no password attempt and leaves no grant behind.
    const proof = await requestProof(ctx);
    await spendProof(ctx, proof);

    let result;
    try {
      result = await checkPassword(username, password, ctx.ip, client.clientId);
    } catch (error) {
      if (error instanceof HashQueueFullError) unavailable(ctx, error);
      throw error;
    }
    if (!result.ok) throw invalidGrant(REFUSED);
    const found = await account(ctx, result.sub);
    if (found === undefined) throw invalidGrant(REFUSED);
    const refuse = (reason: 'email_unverified' | 'second_factor_required' | 'required_actions', description: string): never => {
      audit?.record({
        type: 'signin.failure',
        actor: { type: 'user', id: found.accountId, username: result.username ?? null },
        client: client.clientId,
        details: { reason, grantType: PASSWORD_GRANT },
      });
      throw invalidGrant(description);
    };
    // Any required action the hosted sign-in would ask for (a temporary password, ...): the profile leaves out those that mean nothing for this user (src/oidc/accounts.ts).
    if (undoneActions(found as RequiredActionFlags, mailAvailable).length > 0) refuse('required_actions', NOT_SET_UP);
    if (emailUnconfirmed !== undefined && (await emailUnconfirmed(found))) refuse('email_unverified', EMAIL_UNCONFIRMED);
    if (needsSecondFactor !== undefined && (await needsSecondFactor(found, clientFlag(client, 'require_mfa')))) refuse('second_factor_required', SECOND_FACTOR);
    ctx.oidc.entity('Account', found);

    // The client's default scopes come along as at the code flow (src/oidc/default-scopes.ts).
    const requested = scopeWords(withDefaultScopes(ctx.oidc.params?.scope, defaultScopesOf(client, isOpenIdScope)));
    const allowedOidc = typeof client.scope === 'string' ? new Set(client.scope.split(' ')) : undefined;
    const oidcScopes = requested.filter((scope) => isOpenIdScope(scope) && (allowedOidc === undefined || allowedOidc.has(scope)));
    const apiScopes = requested.filter((scope) => !isOpenIdScope(scope));

    const named = ctx.oidc.params?.resource;
    if (Array.isArray(named)) throw new errors.InvalidTarget('only a single resource indicator value is supported for this grant type');
    const resource = typeof named === 'string' ? named : clientFlag(client, 'login_uses_default_api') ? (clientProperty(client, 'default_api') as string | undefined) : undefined;
    if (resource === undefined && apiScopes.length > 0) throw new errors.InvalidScope('API scopes need a resource', apiScopes.join(' '));
    const info = resource === undefined ? undefined : await resources.getResourceServerInfo!(ctx, resource, client);
    const grantedApiScopes = info === undefined ? [] : apiScopes.filter((scope) => info.scope.split(' ').includes(scope));

    const grant = new provider.Grant({ accountId: found.accountId, clientId: client.clientId });
    if (oidcScopes.length > 0) grant.addOIDCScope(oidcScopes.join(' '));
    if (resource !== undefined) grant.addResourceScope(resource, grantedApiScopes.join(' '));
    const grantId = await grant.save();
    ctx.oidc.entity('Grant', grant);

    const authTime = Math.floor(now() / 1000);
    const at = new provider.AccessToken({ accountId: found.accountId, client, grantId, gty: PASSWORD_GRANT });
    if (resource !== undefined && info !== undefined) {
      at.resourceServer = new provider.ResourceServer(resource, info);
      at.scope = grantedApiScopes.join(' ');
    } else {
      at.scope = oidcScopes.join(' ');
    }
    if (proof !== undefined) at.setThumbprint('jkt', proof.thumbprint);
    ctx.oidc.entity('AccessToken', at);
    const accessToken = await at.save();

    const scope = [...oidcScopes, ...grantedApiScopes].join(' ');
    let refreshToken: string | undefined;
    // The refresh token stays unbound, as the library leaves a confidential client's (the only kind
    // this grant admits, client-metadata.ts): the client's own authentication guards it.
    if (client.grantTypeAllowed('refresh_token')) {
      const rt = new provider.RefreshToken({
        accountId: found.accountId,
        acr: ACR_PASSWORD,
        amr: ['pwd'],
        authTime,
        // As the library's code flow stores it for such a client: ID tokens from refreshes carry auth_time too.
        ...(client.requireAuthTime ? { claims: { id_token: { auth_time: { essential: true } } } } : {}),
        client,
        expiresWithSession: false,
        grantId,
        gty: PASSWORD_GRANT,
        ...(resource === undefined ? {} : { resource }),
        rotations: 0,
        scope,
      });
      ctx.oidc.entity('RefreshToken', rt);
      refreshToken = await rt.save();
    }

    let idToken: string | undefined;
    if (oidcScopes.includes('openid')) {
      const claims = await found.claims('id_token', oidcScopes.join(' '), {}, []);
      const token = new provider.IdToken({ ...claims, acr: ACR_PASSWORD, amr: ['pwd'], auth_time: authTime }, { ctx });
      (token as unknown as { scope: string }).scope = oidcScopes.join(' ');
      // A client registered with require_auth_time gets it (OIDC Dynamic Registration); the
      // library adds it only to ID tokens of its own flows.
      if (client.requireAuthTime) token.set('auth_time', authTime);
      idToken = await token.issue({ use: 'idtoken' });
    }

    ctx.body = {
      access_token: accessToken,
      expires_in: at.expiration,
      token_type: at.tokenType,
      ...(scope === '' ? {} : { scope }),
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
      ...(idToken === undefined ? {} : { id_token: idToken }),
    };
  };
}
