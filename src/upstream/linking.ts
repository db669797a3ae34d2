import type { Accounts, User } from '../accounts/accounts.ts';
import { DuplicateUserError, InvalidUserError } from '../accounts/errors.ts';
import { domainKey, emailKey, hasHiddenCharacter, personalUsername, validEmail } from '../accounts/normalize.ts';
import { profileAttributesInput } from '../accounts/profile-attributes.ts';
import { shortened } from '../accounts/shortened.ts';
import type { UserAdmin } from '../accounts/user-admin.ts';
import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';
import { ConflictError } from '../errors/gatehouse-error.ts';
import type { AuditSink } from '../observability/audit-trail.ts';
import type { UpstreamDirectory, UpstreamProvider } from './directory.ts';
import type { UpstreamIdentity } from './protocol.ts';
import { claimAt } from './spec.ts';

/**
 * The linking rules (README "Sign in with another provider"):
 * - an upstream identity (provider, subject) that is linked signs in as its user;
 * - otherwise, with `link_by_email`, an upstream email the upstream marks verified (or a
 *   provider with `trust_email`) links to the local user who confirmed that email as their
 *   own (an unconfirmed local address links nothing: the identity is pending); an unverified email
 *   is refused, whether or not such a user exists (so the answer tells nothing about users);
 * - otherwise the identity is pending: the person either signs in locally once (proving the
 *   account is theirs) and the link is made, or — with `create_accounts` — gets a new account.
 * `allowed_domains` is checked first, on every sign-in, against a verified email.
 */

/** What the sign-in page keeps of an identity that is not linked yet (inside the interaction, server-side). */
export interface PendingIdentity {
  readonly provider: string;
  readonly subject: string;
  readonly username: string | undefined;
  readonly email: string | undefined;
  readonly emailVerified: boolean;
  readonly name: string | undefined;
  readonly picture: string | undefined;
  readonly roles: string[];
  readonly groups: string[];
  readonly amr: string[];
}

export type RefusalReason = 'domain' | 'email_unverified' | 'disabled' | 'no_account';

export type LinkOutcome =
  | {
      readonly kind: 'signed_in';
      readonly userId: string;
      readonly amr: string[];
      /** A new account created without the upstream's address (another account holds it): the address, for the page that says so. */
      readonly emailLeftOut?: string;
    }
  | { readonly kind: 'pending'; readonly pending: PendingIdentity }
  | { readonly kind: 'refused'; readonly reason: RefusalReason };

export interface UpstreamLinkingDeps {
  readonly directory: UpstreamDirectory;
  readonly accounts: Accounts;
  readonly users: UserAdmin;
  readonly audit: AuditSink;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

function mappedLabels(rules: ReadonlyArray<{ claim: string; value: string }>, claims: Readonly<Record<string, unknown>>, pick: (index: number) => string): string[] {
  const out = new Set<string>();
  rules.forEach((rule, index) => {
    const value = claimAt(claims, rule.claim);
    const values = Array.isArray(value) ? value.map(String) : value === undefined || value === null ? [] : [String(value)];
    if (values.includes(rule.value)) out.add(pick(index));
  });
  return [...out];
}

/** The local attributes an upstream identity maps to (claim mapping, role and group rules). */
export function profileOf(provider: UpstreamProvider, identity: UpstreamIdentity): PendingIdentity {
  const { claims } = identity;
  const map = provider.claims;
  const email = text(claimAt(claims, map.email));
  const verifiedClaim = claimAt(claims, map.email_verified);
  return {
    provider: provider.alias,
    subject: identity.subject,
    username: text(claimAt(claims, map.username)),
    email,
    emailVerified: email !== undefined && (provider.trust_email || verifiedClaim === true || verifiedClaim === 'true'),
    name: text(claimAt(claims, map.name)),
    picture: text(claimAt(claims, map.picture)),
    roles: mappedLabels(provider.role_mappings, claims, (i) => provider.role_mappings[i]!.role),
    groups: mappedLabels(provider.group_mappings, claims, (i) => provider.group_mappings[i]!.group),
    amr: [...identity.amr],
  };
}

/**
 * Whether the local user has confirmed `email` as their own address. Linking by email trusts
 * the local side as much as the upstream: an address anyone can type on their account page (or
 * an operator entered unconfirmed) must not collect another person's upstream sign-ins.
 */
const confirmedOwner = (user: User, email: string): boolean => user.emailVerified && user.email !== null && emailKey(user.email) === emailKey(email);

/** What tells a link apart for its user: the upstream email, else the username. */
const labelOf = (pending: PendingIdentity): string | undefined => pending.email ?? pending.username;

/** Why linking from the account page did not happen. */
export type OwnLinkRefusal = 'domain' | 'taken' | 'disabled';

/** Whether the address is at one of the domains, compared by domainKey (an internationalized domain in either form). */
function atDomain(email: string, domains: readonly string[]): boolean {
  const domain = domainKey(email.slice(email.lastIndexOf('@') + 1));
  return domains.some((allowed) => domainKey(allowed) === domain);
}

/** Roles and groups after a sign-in: the rules' targets follow the upstream; everything else stays. */
export function syncedLabels(current: readonly string[], managed: readonly string[], mapped: readonly string[], mode: UpstreamProvider['mapping_mode'], first: boolean): string[] | undefined {
  if (managed.length === 0) return undefined;
  if (mode === 'first_sign_in' && !first) return undefined;
  const next = [...new Set([...current.filter((label) => !managed.includes(label)), ...mapped])];
  return next.length === current.length && next.every((label) => current.includes(label)) ? undefined : next;
}

/** The optional attributes of a just-in-time account, each left out when the upstream's value cannot be stored. */
interface NewAccountFields {
  email?: string;
  name?: string;
  picture?: string;
}
const OPTIONAL_FIELDS = ['email', 'name', 'picture'] as const;
const isOptional = (field: string): field is (typeof OPTIONAL_FIELDS)[number] => (OPTIONAL_FIELDS as readonly string[]).includes(field);

/** A local name holds at most this many UTF-16 units (src/accounts/accounts.ts); a longer one is cut by whole characters, trailing space dropped. */
const NAME_MAX = 256;

/**
 * What a new account takes from the upstream profile, made storable: a name longer than a local
 * name may be is shortened (it is only a display name), a name with a hidden character, an email or
 * a picture the local rules refuse is left out (a shortened address or URL would be someone else's).
 */
function newAccountFields(pending: PendingIdentity): NewAccountFields {
  const fields: NewAccountFields = {};
  if (pending.email !== undefined) {
    try {
      fields.email = validEmail(pending.email);
    } catch {
      // Not an address Gatehouse can keep (too long, malformed): the account has none.
    }
  }
  // A control or invisible format character (a U+202E reverses what follows) is refused in every name someone picks: left out.
  if (pending.name !== undefined && !hasHiddenCharacter(pending.name)) fields.name = pending.name.length > NAME_MAX ? shortened(pending.name, NAME_MAX).trimEnd() : pending.name;
  if (pending.picture !== undefined && profileAttributesInput.picture.safeParse(pending.picture).success) fields.picture = pending.picture;
  return fields;
}

export function upstreamLinking({ directory, accounts, users, audit }: UpstreamLinkingDeps) {
  const record = (type: 'upstream.signin' | 'upstream.account_created' | 'upstream.linked' | 'upstream.refused', userId: string | null, provider: string, client: string | undefined, details: Record<string, unknown> = {}) =>
    audit.record({
      type,
      actor: userId === null ? { type: 'anonymous', id: null } : { type: 'user', id: userId },
      client: client ?? null,
      target: userId === null ? { type: 'upstream_provider', id: provider } : { type: 'user', id: userId },
      details: { provider, ...details },
    });

  async function applyMappings(provider: UpstreamProvider, user: User, pending: PendingIdentity, first: boolean): Promise<void> {
    const roles = syncedLabels(user.roles, provider.role_mappings.map((rule) => rule.role), pending.roles, provider.mapping_mode, first);
    const groups = syncedLabels(user.groups, provider.group_mappings.map((rule) => rule.group), pending.groups, provider.mapping_mode, first);
    if (roles === undefined && groups === undefined) return;
    await users.update(user.id, { ...(roles === undefined ? {} : { roles }), ...(groups === undefined ? {} : { groups }) });
  }

  /**
   * Links the identity to `userId`; resolves to the user it is linked to — `userId`, or the user
   * another sign-in of the same identity linked it to first (the same person in two tabs at once,
   * or a "Connect" on the account page meanwhile): that link stands.
   */
  async function claimLink(alias: string, pending: PendingIdentity, userId: string): Promise<string> {
    try {
      await directory.link(alias, pending.subject, userId, labelOf(pending));
      return userId;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      const winner = await directory.findLink(alias, pending.subject);
      if (winner === undefined) throw error;
      return winner.userId;
    }
  }

  /** Signed in as whoever the identity was linked to first, by another sign-in meanwhile. */
  const asLinked = async (provider: UpstreamProvider, holder: string, pending: PendingIdentity, client: string | undefined) => signIn(provider, await accounts.findById(holder), pending, client, false);

  const amrOf = (pending: PendingIdentity, extra: readonly string[] = []) => [...new Set(['fed', ...extra, ...pending.amr])];

  /** Refusal, audited; the page says why in general terms. */
  function refuse(reason: RefusalReason, provider: string, client: string | undefined, userId: string | null = null): LinkOutcome {
    record('upstream.refused', userId, provider, client, { reason });
    return { kind: 'refused', reason };
  }

  async function signIn(provider: UpstreamProvider, user: User | undefined, pending: PendingIdentity, client: string | undefined, first: boolean, extraAmr: readonly string[] = []): Promise<LinkOutcome> {
    if (user === undefined || user.disabled) return refuse('disabled', provider.alias, client, user?.id ?? null);
    await applyMappings(provider, user, pending, first);
    if (!first) await directory.touchLink(provider.alias, pending.subject);
    await accounts.recordSignIn(user.id);
    record('upstream.signin', user.id, provider.alias, client);
    return { kind: 'signed_in', userId: user.id, amr: amrOf(pending, extraAmr) };
  }

  async function freeUsername(wanted: string | undefined, email: string | undefined, provider: string): Promise<string> {
    const allowed = (wanted ?? email?.slice(0, email.indexOf('@')) ?? provider)
      .normalize('NFKC')
      .replace(/[^\p{L}\p{N}._-]+/gu, '-')
      .replace(/^-+|-+$/g, '');
    // By whole characters: half of a letter outside the basic plane (𠮷) is no username.
    const picked = shortened(allowed, 48) || provider;
    // Keycloak-shaped client_credentials tokens name their client `service-account-<client id>`
    // (src/oidc/keycloak-claims.ts), which apps tell a service by: no upstream account picks that name.
    const base = personalUsername(picked);
    if ((await accounts.findByLogin(base)) === undefined) return base;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const candidate = `${base}-${Math.random().toString(36).slice(2, 8)}`;
      if ((await accounts.findByLogin(candidate)) === undefined) return candidate;
    }
    return `${provider}-${crypto.randomUUID()}`;
  }

  return {
    /** After the upstream callback: sign in, refuse, or leave the identity pending. */
    async resolve(provider: UpstreamProvider, identity: UpstreamIdentity, client: string | undefined): Promise<LinkOutcome> {
      const pending = profileOf(provider, identity);
      if (provider.allowed_domains.length > 0) {
        if (pending.email === undefined || !pending.emailVerified || !atDomain(pending.email, provider.allowed_domains)) return refuse('domain', provider.alias, client);
      }
      const link = await directory.findLink(provider.alias, pending.subject);
      if (link !== undefined) return signIn(provider, await accounts.findById(link.userId), pending, client, false);
      if (provider.link_by_email && pending.email !== undefined) {
        if (!pending.emailVerified) return refuse('email_unverified', provider.alias, client);
        const user = await accounts.findByLogin(pending.email);
        if (user !== undefined && !user.disabled && confirmedOwner(user, pending.email)) {
          const holder = await claimLink(provider.alias, pending, user.id);
          if (holder !== user.id) return asLinked(provider, holder, pending, client);
          record('upstream.linked', user.id, provider.alias, client, { by: 'verified_email' });
          return signIn(provider, user, pending, client, true);
        }
      }
      return { kind: 'pending', pending };
    },

    /**
     * Whether a local sign-in must pass the account's second factor before a pending identity
     * is linked to it (src/interactions/upstream.ts): the password alone proves too little
     * for an account that has one.
     */
    async secondFactorFirst(userId: string): Promise<boolean> {
      return (await accounts.findById(userId))?.secondFactor === true;
    },

    /**
     * The person proved a local account (signed in with it): link the pending identity to it.
     * The session's methods are the local ones and `fed`: the upstream's own (an `mfa` there)
     * vouch for the upstream account, which was not yet known to be this user's.
     */
    async linkPending(provider: UpstreamProvider, pending: PendingIdentity, userId: string, client: string | undefined): Promise<LinkOutcome> {
      const user = await accounts.findById(userId);
      if (user === undefined || user.disabled) return refuse('disabled', provider.alias, client, userId);
      const existing = await directory.findLink(provider.alias, pending.subject);
      if (existing !== undefined && existing.userId !== userId) return refuse('no_account', provider.alias, client, userId);
      if (existing === undefined) {
        await directory.link(provider.alias, pending.subject, userId, labelOf(pending));
        record('upstream.linked', userId, provider.alias, client, { by: 'local_sign_in' });
      }
      return signIn(provider, user, { ...pending, amr: [] }, client, true, ['pwd']);
    },

    /**
     * The account page's "Connect": a signed-in user links an upstream identity to themselves.
     * Refused when the identity is linked to someone else, or (allowed_domains) its email is
     * outside the provider's domains. Linking the same identity again changes nothing.
     */
    async linkToUser(provider: UpstreamProvider, identity: UpstreamIdentity, userId: string): Promise<{ kind: 'linked' | 'already' } | { kind: 'refused'; reason: OwnLinkRefusal }> {
      const pending = profileOf(provider, identity);
      const refused = (reason: OwnLinkRefusal) => {
        record('upstream.refused', userId, provider.alias, ACCOUNT_CLIENT_ID, { reason: reason === 'taken' ? 'already_linked' : reason, by: 'account_page' });
        return { kind: 'refused' as const, reason };
      };
      const user = await accounts.findById(userId);
      if (user === undefined || user.disabled) return refused('disabled');
      if (provider.allowed_domains.length > 0) {
        if (pending.email === undefined || !pending.emailVerified || !atDomain(pending.email, provider.allowed_domains)) return refused('domain');
      }
      const existing = await directory.findLink(provider.alias, pending.subject);
      if (existing !== undefined) return existing.userId === userId ? { kind: 'already' } : refused('taken');
      try {
        await directory.link(provider.alias, pending.subject, userId, labelOf(pending));
      } catch (error) {
        // Linked to someone meanwhile.
        if (error instanceof ConflictError) return refused('taken');
        throw error;
      }
      record('upstream.linked', userId, provider.alias, ACCOUNT_CLIENT_ID, { by: 'account_page' });
      return { kind: 'linked' };
    },

    /**
     * Just-in-time creation. The same identity created in two sign-ins at once (two tabs) ends as
     * one account: the sign-in whose link came second removes the account it made and signs in
     * as the first one's. Never fails on a taken username or email, so it tells nothing
     * about other users: a taken username gets a suffix, a taken email is left out — also one
     * taken between the check and the insert (another sign-in at the same moment), which with
     * `link_by_email` links to the address's confirmed owner instead, as resolve() would have.
     * Nor on what the upstream sends: an optional claim the local rules refuse (a name over 256
     * characters, an address or picture URL that is not one) is shortened or left out.
     */
    async createFromPending(provider: UpstreamProvider, pending: PendingIdentity, client: string | undefined): Promise<LinkOutcome> {
      if (!provider.create_accounts) return refuse('no_account', provider.alias, client);
      const already = await directory.findLink(provider.alias, pending.subject);
      if (already !== undefined) return signIn(provider, await accounts.findById(already.userId), pending, client, false);
      const fields = newAccountFields(pending);
      /** Why the upstream's address is not the new account's (audited, never silent), or whose unconfirmed address it took. */
      let emailLeftOut: 'taken' | undefined;
      let releasedFrom: string | undefined;
      if (fields.email !== undefined) {
        const holder = await accounts.findByLogin(fields.email);
        if (holder !== undefined) {
          // The verified owner wins: an address the upstream verified is taken from a local account
          // that never confirmed it (typed by anyone); a confirmed holder keeps it.
          const unconfirmed = holder.email !== null && emailKey(holder.email) === emailKey(fields.email) && !holder.emailVerified;
          if (pending.emailVerified && unconfirmed && (await users.releaseUnconfirmedEmail(holder.id, fields.email))) {
            releasedFrom = holder.id;
            audit.record({ type: 'user.email_released', actor: { type: 'anonymous', id: null }, client: client ?? null, target: { type: 'user', id: holder.id }, details: { provider: provider.alias } });
          } else {
            delete fields.email;
            emailLeftOut = 'taken';
          }
        }
      }
      let user: User | undefined;
      // Each failed attempt drops a field or picks another username: a handful is enough.
      for (let attempt = 0; attempt < 5 && user === undefined; attempt += 1) {
        try {
          user = await accounts.createUser({
            username: await freeUsername(pending.username, pending.email, provider.alias),
            ...(fields.email === undefined ? {} : { email: fields.email, emailVerified: pending.emailVerified }),
            name: fields.name ?? null,
            ...(fields.picture === undefined ? {} : { attributes: { picture: fields.picture } }),
            roles: pending.roles,
            groups: pending.groups,
          });
        } catch (error) {
          if (error instanceof DuplicateUserError) {
            if (error.field !== 'email' || fields.email === undefined) continue;
            const owner = provider.link_by_email && pending.emailVerified ? await accounts.findByLogin(fields.email) : undefined;
            if (owner !== undefined && !owner.disabled && confirmedOwner(owner, fields.email)) {
              const holder = await claimLink(provider.alias, pending, owner.id);
              if (holder !== owner.id) return asLinked(provider, holder, pending, client);
              record('upstream.linked', owner.id, provider.alias, client, { by: 'verified_email' });
              return signIn(provider, owner, pending, client, true);
            }
            delete fields.email;
            emailLeftOut = 'taken';
          } else if (error instanceof InvalidUserError && isOptional(error.field)) {
            delete fields[error.field];
          } else {
            throw error;
          }
        }
      }
      if (user === undefined) throw new Error('could not create an account for an upstream identity');
      const holder = await claimLink(provider.alias, pending, user.id);
      if (holder !== user.id) {
        // Another sign-in of this identity (another tab) created its account and linked it first:
        // this one's account was never used or announced, so it goes, and both tabs are one user.
        await accounts.discardUnused(user.id);
        return asLinked(provider, holder, pending, client);
      }
      record('upstream.account_created', user.id, provider.alias, client, {
        username: user.username,
        ...(emailLeftOut === undefined ? {} : { emailLeftOut }),
        ...(releasedFrom === undefined ? {} : { emailReleasedFrom: releasedFrom }),
      });
      const signedIn = await signIn(provider, user, pending, client, true);
      // The person is told too, on the next page (src/interactions/upstream.ts), not only the audit.
      return signedIn.kind === 'signed_in' && emailLeftOut !== undefined && pending.email !== undefined ? { ...signedIn, emailLeftOut: pending.email } : signedIn;
    },
  };
}

export type UpstreamLinking = ReturnType<typeof upstreamLinking>;
