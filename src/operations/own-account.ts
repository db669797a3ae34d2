import { z } from 'zod';
import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';
import { PasswordAlreadySetError, PasswordPolicyError } from '../accounts/errors.ts';
import { ConflictError, fieldProblem, invalid, InvalidRequestError } from '../errors/gatehouse-error.ts';
import { enrolmentKeeper } from '../mfa/enrolment.ts';
import { mfaRequirement, type MfaPolicy } from '../mfa/policy.ts';
import { ADMIN_SCOPE } from '../oidc/admin-scope.ts';
import { isOidcScope } from '../oidc/claims.ts';
import { totpUri } from '../mfa/totp.ts';
import type { GatehouseServices } from '../services.ts';
import { notFound } from './errors.ts';
import { ownEmailChange, type OwnEmailChangeDeps } from './own-email-change.ts';
import { selfContext as contextOf, selfTarget as target, type Self } from './self.ts';
import { sessionOperations } from './sessions.ts';
import { upstreamOperations } from './upstream.ts';
import { usable } from '../upstream/usable.ts';
import { lockKey } from '../storage/document-locks.ts';
import { showFactors, showUser, userOperations, userUpdateSchema, type VerificationSender } from './users.ts';

/**
 * The policy names `password`; on the account page's forms the field is `new_password`: each
 * rule broken is a detail on it, named by its code (`password_digits`, `{limit: 2}`).
 */
function policyBroken(error: PasswordPolicyError): InvalidRequestError {
  const details = error.unmet.map(({ rule, limit }) => fieldProblem('new_password', `password_${rule}`, limit === undefined ? undefined : { limit }));
  return new InvalidRequestError(`new_password: ${details.map((detail) => detail.message).join('; ')}`, details);
}

/** What a user may change about themselves (roles, groups and `email_verified` stay with operators). */
export const ownProfileSchema = userUpdateSchema.pick({ name: true, given_name: true, family_name: true, nickname: true, email: true, locale: true, zoneinfo: true });

export const passwordChangeSchema = z
  .object({
    current_password: z.string().min(1),
    new_password: z.string().min(1),
    /** End every other sign-in session too (a password change after a suspected leak). */
    sign_out_others: z.boolean().default(false),
  })
  .strict();

/** A first password, for a user who has none: a recent sign-in stands in for the current password. */
export const passwordAddSchema = z
  .object({
    new_password: z.string().min(1),
  })
  .strict();

export const totpConfirmSchema = z.object({ code: z.string().trim().min(1).max(16) }).strict();
export const passkeyNameSchema = z.object({ name: z.string().trim().min(1).max(64) }).strict();
export const passkeyAddSchema = z.object({ ticket: z.string().min(1).max(512), response: z.string().min(1).max(64 * 1024), name: z.string().trim().max(64).default('') }).strict();

export type { Self } from './self.ts';

export interface OwnAccountDeps {
  /** Sends a verification link to a changed email address (when mail is configured). */
  readonly verification?: VerificationSender | undefined;
  /** The name authenticator apps show next to the account (the brand name). */
  readonly issuerName: string;
  /** An SVG QR code of a text (the otpauth:// URI). */
  readonly qrSvg: (text: string) => Promise<string>;
  /** Who must use a second factor (GATEHOUSE_MFA_REQUIRED_ROLES / _GROUPS): they keep their last one. */
  /** Who must use a second factor (a runtime setting), read at each use. */
  readonly mfaPolicy: () => Promise<MfaPolicy>;
  /** One-time WebAuthn challenges for adding a passkey (src/account/passkey-ticket.ts). */
  readonly tickets: {
    issue(userId: string): { readonly challenge: string; readonly ticket: string };
    open(userId: string, ticket: string): string | undefined;
  };
  /** Where the browser starts "Connect <provider>" with a one-time ticket (the routes table's link path). */
  readonly upstreamLinkUrl?: ((alias: string, ticket: string) => string) | undefined;
  /** Attempts to change the email address, per user (own-email-change.ts). */
  readonly emailChanges?: OwnEmailChangeDeps['emailChanges'];
}


/**
 * What a signed-in user can do to their own account on the account page. Everything is scoped
 * to `self.user.id`: a session, grant or passkey id of another user is "not found". Operator
 * operations are reused wherever they fit, so validation and audit are the same.
 */
export function ownAccountOperations(services: GatehouseServices, deps: OwnAccountDeps) {
  const { accounts, clients, revocation, factors, passkeys, audit } = services;
  const users = userOperations(services, deps.verification);
  const sessions = sessionOperations(services);
  const upstream = upstreamOperations(services);
  const syncEnrolment = enrolmentKeeper({ factors, passkeys, accounts });
  /**
   * Removing a way to sign in or a second factor checks what is left, then removes: two removals
   * at once would both pass the check (the last two passkeys gone). One lock per user makes the
   * check and the removal one step (src/storage/document-locks.ts).
   */
  const removingMethod = <T>(self: Self, work: () => Promise<T>) => services.locks.hold(lockKey('sign_in_methods', self.user.id), work);
  const countEmailChange = ownEmailChange({ audit, emailChanges: deps.emailChanges });
  /** An API a grant names, by its display name (its identifier when no longer registered). */
  const apiDetail = async (identifier: string) => ({
    identifier,
    name: (await services.apis.find(identifier))?.name ?? identifier,
    gatehouse: identifier === services.adminAudience ? ('admin' as const) : null,
  });
  /**
   * The scopes an app's grant names that belong to its APIs (`admin` of Gatehouse's admin API, an
   * API's own scopes): "Data in <API>" already says them. A first-party app's grant lists them
   * among its scopes too (src/oidc/grant-policy.ts); the page would show them as bare words.
   */
  const apiScopes = async (identifiers: Iterable<string>): Promise<Set<string>> => {
    const scopes = new Set<string>();
    for (const identifier of identifiers) {
      for (const scope of identifier === services.adminAudience ? [ADMIN_SCOPE] : ((await services.apis.find(identifier))?.scopes ?? [])) if (!isOidcScope(scope)) scopes.add(scope);
    }
    return scopes;
  };
  const clientName = async (clientId: string) => (await clients.get(clientId))?.displayName ?? clientId;

  const alreadySet = () => new ConflictError('password_exists', undefined, 'current_password');

  /**
   * Sets the user's own new password (`first`: only while they have none, decided under their
   * lock); a policy refusal names `new_password`, the field of the account page's forms.
   */
  async function setNewPassword(self: Self, password: string, { first = false } = {}): Promise<void> {
    try {
      await (first ? accounts.addPassword(self.user.id, password) : accounts.setPassword(self.user.id, password));
    } catch (error) {
      if (error instanceof PasswordPolicyError) throw policyBroken(error);
      if (error instanceof PasswordAlreadySetError) throw alreadySet();
      throw error;
    }
  }

  async function otherSessions(self: Self) {
    return (await revocation.listSessions(self.user.id)).filter((session) => self.sessionUid === undefined || session.uid !== self.sessionUid);
  }

  async function factorView(userId: string) {
    return showFactors(await factors.status(userId), await passkeys.list(userId));
  }

  /** Whether the user must keep a second factor: their roles or groups, or an app they granted access that has `require_mfa`. */
  async function factorRequired(self: Self): Promise<boolean> {
    const user = (await accounts.findById(self.user.id)) ?? self.user;
    if (mfaRequirement(await deps.mfaPolicy(), { amr: undefined, roles: user.roles, groups: user.groups, clientRequires: false, acrValues: undefined }) !== undefined) return true;
    for (const clientId of new Set((await revocation.listGrants(self.user.id)).map((grant) => grant.clientId))) {
      if ((await clients.get(clientId))?.metadata.require_mfa === true) return true;
    }
    return false;
  }

  /**
   * Refuses to remove the user's last second factor while one is required of them: they would
   * have to enrol again at the next sign-in anyway, and until then a password alone would do.
   * Operators can still reset factors (admin API, CLI); the next sign-in then enrols.
   */
  async function keepLastRequiredFactor(self: Self, removing: { readonly totp: true } | { readonly passkey: string }): Promise<void> {
    const totpLeft = 'totp' in removing ? 0 : (await factors.status(self.user.id)).totpSince === null ? 0 : 1;
    const passkeysLeft = (await passkeys.list(self.user.id)).filter((passkey) => !('passkey' in removing) || passkey.id !== removing.passkey).length;
    if (totpLeft + passkeysLeft > 0 || !(await factorRequired(self))) return;
    throw new ConflictError('factor_required', undefined, 'factor');
  }

  /**
   * Refuses to remove the user's last way to sign in: no password, no passkey and no upstream
   * link would be left. One rule for passkeys and upstream links; `path` names what was refused
   * (`passkey` or `upstream_link`, message `last_sign_in_method`).
   */
  async function keepLastSignInMethod(self: Self, removing: { readonly passkey: string } | { readonly upstreamLink: { readonly alias: string; readonly subject: string } }): Promise<void> {
    const user = (await accounts.findById(self.user.id)) ?? self.user;
    if (user.hasPassword) return;
    const passkeysLeft = (await passkeys.list(self.user.id)).filter((passkey) => !('passkey' in removing) || passkey.id !== removing.passkey).length;
    if (passkeysLeft > 0) return;
    const linksLeft = (await services.upstream.linksOf(self.user.id)).filter(
      (link) => !('upstreamLink' in removing) || link.provider !== removing.upstreamLink.alias || link.subject !== removing.upstreamLink.subject,
    ).length;
    if (linksLeft > 0) return;
    const path = 'passkey' in removing ? 'passkey' : 'upstream_link';
    throw new ConflictError('last_sign_in_method', undefined, path);
  }

  return {
    profile: (self: Self) => {
      const { id, username, email, email_verified, name, given_name, family_name, nickname, locale, zoneinfo, roles, groups, created_at } = showUser(self.user);
      return { id, username, email, email_verified, name, given_name, family_name, nickname, locale, zoneinfo, roles, groups, created_at, has_password: self.user.hasPassword };
    },

    async updateProfile(self: Self, body: unknown) {
      const patch = ownProfileSchema.parse(body);
      if (patch.email !== undefined) await countEmailChange(self, patch.email);
      return users.update(contextOf(self), self.user.id, patch);
    },

    /** Checks the current password (a wrong one counts toward the lockout like a sign-in), then sets the new one. */
    async changePassword(self: Self, body: unknown): Promise<{ signedOut: number }> {
      const input = passwordChangeSchema.parse(body);
      const checked = await accounts.authenticate(self.user.username, input.current_password, self.ip, ACCOUNT_CLIENT_ID);
      if (!checked.ok || checked.user.id !== self.user.id) {
        throw invalid('current_password', 'not_current_password');
      }
      await setNewPassword(self, input.new_password);
      let signedOut = 0;
      if (input.sign_out_others) {
        for (const session of await otherSessions(self)) if (await revocation.revokeSession(self.user.id, session.id)) signedOut += 1;
      }
      await audit.write({ ...contextOf(self), type: 'user.password_changed', target: target(self), details: { signedOutSessions: signedOut } });
      return { signedOut };
    },

    /**
     * The first password of a user who signs in without one (upstream, passkey). The route asks
     * for a recent sign-in (src/account/api.ts); a user with a password changes it above.
     */
    async addPassword(self: Self, body: unknown): Promise<void> {
      const input = passwordAddSchema.parse(body);
      const current = await accounts.findById(self.user.id);
      if (current === undefined) throw notFound('user_not_found', self.user.id);
      // Before hashing, for the common case; the answer that counts is given under the lock.
      if (current.hasPassword) throw alreadySet();
      await setNewPassword(self, input.new_password, { first: true });
      await audit.write({ ...contextOf(self), type: 'user.password_added', target: target(self) });
    },

    async sessions(self: Self) {
      const list = await revocation.listSessions(self.user.id);
      const devices = await services.sessionDevices.ofUser(self.user.id, list.flatMap((session) => (session.uid === null ? [] : [session.uid])));
      const names = new Map<string, string>();
      for (const clientId of new Set(list.flatMap((session) => session.clients))) names.set(clientId, await clientName(clientId));
      return list
        .map((session) => ({ session, device: session.uid === null ? undefined : devices.get(session.uid) }))
        .map(({ session, device }) => ({
          id: session.id,
          current: self.sessionUid !== undefined && session.uid === self.sessionUid,
          device: device?.device ?? null,
          browser: device?.browser ?? null,
          system: device?.system ?? null,
          ip: device?.ip ?? null,
          last_seen_at: device?.lastSeenAt.toISOString() ?? null,
          login_at: session.loginAt?.toISOString() ?? null,
          expires_at: session.expiresAt?.toISOString() ?? null,
          apps: session.clients.map((clientId) => ({ client_id: clientId, name: names.get(clientId) ?? clientId })),
        }))
        .sort((a, b) => Number(b.current) - Number(a.current) || String(b.login_at).localeCompare(String(a.login_at)));
    },

    /** Ends one of the user's sessions (another user's id is not found); audited as session.revoked. */
    endSession: (self: Self, sessionId: string) => sessions.revoke(contextOf(self), self.user.id, sessionId),

    /** Ends every session but the one the account page runs in. */
    async endOtherSessions(self: Self): Promise<number> {
      let ended = 0;
      for (const session of await otherSessions(self)) {
        if (!(await revocation.revokeSession(self.user.id, session.id))) continue;
        ended += 1;
        await audit.write({ ...contextOf(self), type: 'session.revoked', target: target(self), details: { session: session.id } });
      }
      return ended;
    },

    /**
     * The applications the user has granted access, one entry per application (the account page
     * itself left out). `apis` are the identifiers (addresses) of the APIs each may call;
     * `api_details` the same with their display names, and `gatehouse: "admin"` on Gatehouse's own
     * admin API so the page can name it in the reader's language.
     */
    async apps(self: Self) {
      const byClient = new Map<string, { scopes: Set<string>; resources: Set<string>; since: Date | null }>();
      for (const grant of await revocation.listGrants(self.user.id)) {
        if (grant.clientId === ACCOUNT_CLIENT_ID) continue;
        const entry = byClient.get(grant.clientId) ?? { scopes: new Set<string>(), resources: new Set<string>(), since: grant.issuedAt };
        for (const scope of grant.scope.split(' ').filter(Boolean)) entry.scopes.add(scope);
        for (const resource of grant.resources) entry.resources.add(resource);
        if (grant.issuedAt !== null && (entry.since === null || grant.issuedAt < entry.since)) entry.since = grant.issuedAt;
        byClient.set(grant.clientId, entry);
      }
      const apps = [];
      for (const [clientId, entry] of byClient) {
        const client = await clients.get(clientId);
        const uri = client?.metadata.client_uri;
        const saidByApis = await apiScopes(entry.resources);
        apps.push({
          client_id: clientId,
          name: client?.displayName ?? clientId,
          url: typeof uri === 'string' ? uri : null,
          scopes: [...entry.scopes].filter((scope) => !saidByApis.has(scope)),
          apis: [...entry.resources],
          api_details: await Promise.all([...entry.resources].map(apiDetail)),
          granted_at: entry.since?.toISOString() ?? null,
        });
      }
      return apps.sort((a, b) => a.name.localeCompare(b.name));
    },

    /** Revokes every grant the user gave the application, and with them its tokens; its next sign-in asks again. */
    async revokeApp(self: Self, clientId: string): Promise<void> {
      const grants = (await revocation.listGrants(self.user.id)).filter((grant) => grant.clientId === clientId && clientId !== ACCOUNT_CLIENT_ID);
      if (grants.length === 0) throw notFound('app_not_found', clientId);
      for (const grant of grants) await sessions.revokeGrant(contextOf(self), grant.id, self.user.id);
    },

    factors: (self: Self) => factorView(self.user.id),

    /** Starts authenticator-app enrolment: the secret, its otpauth:// URI and a QR code of it. */
    async beginTotp(self: Self) {
      if ((await factors.status(self.user.id)).totpSince !== null) throw new ConflictError('totp_exists', undefined, 'totp');
      const { secret, parameters } = await factors.beginTotp(self.user.id);
      const uri = totpUri(secret, self.user.username, deps.issuerName, parameters);
      return { secret, uri, qr_svg: await deps.qrSvg(uri), digits: parameters.digits, period: parameters.period, algorithm: parameters.algorithm };
    },

    /** Confirms enrolment with a code from the app; answers the 10 recovery codes, shown once. */
    async confirmTotp(self: Self, body: unknown) {
      const { code } = totpConfirmSchema.parse(body);
      const result = await factors.confirmTotp(self.user.id, code, self.ip);
      if (!result.ok) throw invalid('code', 'totp_code_rejected');
      await syncEnrolment(self.user.id);
      return { recovery_codes: result.recoveryCodes };
    },

    /** Removes the authenticator app and the recovery codes (passkeys stay). */
    async removeTotp(self: Self): Promise<void> {
      await removingMethod(self, async () => {
        if ((await factors.status(self.user.id)).totpSince === null) throw notFound('totp_not_found', self.user.id);
        await keepLastRequiredFactor(self, { totp: true });
        await factors.reset(self.user.id);
        await syncEnrolment(self.user.id);
      });
      await audit.write({ ...contextOf(self), type: 'mfa.removed', target: target(self), details: { method: 'totp' } });
    },

    /** Ten new recovery codes (the old ones stop working), for a user who has a second factor. */
    async regenerateRecoveryCodes(self: Self) {
      const view = await factorView(self.user.id);
      if (!view.enrolled) throw new ConflictError('recovery_codes_need_factor', undefined, 'recovery_codes');
      return { recovery_codes: await factors.regenerateRecoveryCodes(self.user.id) };
    },

    /** WebAuthn options to create a passkey, and the ticket that carries their challenge back. */
    async passkeyOptions(self: Self) {
      const { challenge, ticket } = deps.tickets.issue(self.user.id);
      return { ticket, options: await passkeys.registrationOptions({ id: self.user.id, username: self.user.username }, challenge) };
    },

    async addPasskey(self: Self, body: unknown) {
      const input = passkeyAddSchema.parse(body);
      const challenge = deps.tickets.open(self.user.id, input.ticket);
      if (challenge === undefined) throw invalid('ticket', 'passkey_ticket_expired');
      if (!(await passkeys.register(self.user.id, input.response, challenge, input.name))) {
        throw invalid('response', 'passkey_rejected');
      }
      await syncEnrolment(self.user.id);
      return factorView(self.user.id);
    },

    async renamePasskey(self: Self, passkeyId: string, body: unknown): Promise<void> {
      const { name } = passkeyNameSchema.parse(body);
      if (!(await passkeys.rename(self.user.id, passkeyId, name))) throw notFound('passkey_not_found', passkeyId);
      await audit.write({ ...contextOf(self), type: 'mfa.passkey_renamed', target: target(self), details: { passkey: passkeyId } });
    },

    /** The user's links to upstream providers, and the providers the account page may connect. */
    async upstreamLinks(self: Self) {
      const links = await services.upstream.linksOf(self.user.id);
      const providers = await services.upstream.list();
      const names = new Map(providers.map((provider) => [provider.alias, provider.display_name]));
      return {
        links: links.map((link) => ({
          provider: link.provider,
          display_name: names.get(link.provider) ?? link.provider,
          subject: link.subject,
          label: link.label,
          linked_at: link.createdAt.toISOString(),
          last_sign_in_at: link.lastSignInAt?.toISOString() ?? null,
        })),
        available:
          deps.upstreamLinkUrl === undefined
            ? []
            : providers
                .filter((provider) => usable(provider, ACCOUNT_CLIENT_ID) && !links.some((link) => link.provider === provider.alias))
                .map((provider) => ({ provider: provider.alias, display_name: provider.display_name, icon_url: provider.icon_url })),
        has_password: self.user.passwordChangedAt !== null,
      };
    },

    /** "Connect <provider>": a one-time URL that runs the upstream sign-in and links its identity to this user. */
    async startUpstreamLink(self: Self, alias: string) {
      const provider = await services.upstream.get(alias);
      if (deps.upstreamLinkUrl === undefined || !usable(provider, ACCOUNT_CLIENT_ID)) throw notFound('upstream_not_found', alias);
      const ticket = await services.upstreamLinkTickets.issue({ userId: self.user.id, provider: alias });
      return { url: deps.upstreamLinkUrl(alias, ticket) };
    },

    /** Removes a link, unless it is the user's last way to sign in (no password, no passkey, no other link). */
    async removeUpstreamLink(self: Self, alias: string, subject: string): Promise<void> {
      const links = await services.upstream.linksOf(self.user.id);
      if (!links.some((link) => link.provider === alias && link.subject === subject)) throw notFound('upstream_link_not_found', `${alias}/${subject}`);
      await removingMethod(self, async () => {
        await keepLastSignInMethod(self, { upstreamLink: { alias, subject } });
        await upstream.unlink(contextOf(self), self.user.id, alias, subject);
      });
    },

    /** Removes a passkey, unless it is the user's last way to sign in or their last required second factor. */
    async removePasskey(self: Self, passkeyId: string): Promise<void> {
      await removingMethod(self, async () => {
        if ((await passkeys.list(self.user.id)).some((passkey) => passkey.id === passkeyId)) {
          await keepLastSignInMethod(self, { passkey: passkeyId });
          await keepLastRequiredFactor(self, { passkey: passkeyId });
        }
        if (!(await passkeys.remove(self.user.id, passkeyId))) throw notFound('passkey_not_found', passkeyId);
        await syncEnrolment(self.user.id);
      });
      await audit.write({ ...contextOf(self), type: 'mfa.removed', target: target(self), details: { method: 'passkey', passkey: passkeyId } });
    },
  };
}

export type OwnAccountOperations = ReturnType<typeof ownAccountOperations>;
