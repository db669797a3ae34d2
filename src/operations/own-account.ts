import { z } from 'zod';
import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';
import { webLink } from '../clients/web-link.ts';
import { PasswordAlreadySetError, PasswordPolicyError } from '../accounts/errors.ts';
import { ConflictError, fieldProblem, invalid, InvalidRequestError } from '../errors/gatehouse-error.ts';
import { ADMIN_SCOPE } from '../oidc/admin-scope.ts';
import { isOidcScope } from '../oidc/claims.ts';
import { listings } from './app-entry.ts';
import type { GatehouseServices } from '../services.ts';
import { notFound } from './errors.ts';
import { ownEmailChange, type OwnEmailChangeDeps } from './own-email-change.ts';
import { ownSignInMethods, type OwnSignInMethodsDeps } from './own-sign-in-methods.ts';
import { selfContext as contextOf, selfTarget as target, type Self } from './self.ts';
import { consentOperations } from './consents.ts';
import { sessionOperations, withOrigins } from './sessions.ts';
import { showUser, userOperations, userPatchFields, type VerificationSender } from './users.ts';

/** What the account page lists of one application (apps()). */
interface AppEntry {
  readonly scopes: Set<string>;
  readonly resources: Set<string>;
  since: Date | null;
  /** Clients acting with tokens exchanged from this app's grants in force: their APIs. */
  readonly via: Map<string, Set<string>>;
  /** This client's exchanged grants whose original is gone, by the original's client (null: not recorded): their APIs. */
  readonly from: Map<string | null, Set<string>>;
}

/**
 * The policy names `password`; on the account page's forms the field is `new_password`: each
 * rule broken is a detail on it, named by its code (`password_digits`, `{limit: 2}`).
 */
function policyBroken(error: PasswordPolicyError): InvalidRequestError {
  const details = error.unmet.map(({ rule, limit }) => fieldProblem('new_password', `password_${rule}`, limit === undefined ? undefined : { limit }));
  return new InvalidRequestError(`new_password: ${details.map((detail) => detail.message).join('; ')}`, details);
}

/**
 * What a user may change about themselves (roles, groups and `email_verified` stay with operators).
 * The names other people read in every app's ID token and in the console hold no control or
 * invisible format character: the operators' rule, in userPatchFields (src/operations/users.ts,
 * src/accounts/profile-attributes.ts), checked once.
 */
export const ownProfileSchema = userPatchFields.pick({ name: true, given_name: true, family_name: true, nickname: true, email: true, locale: true, zoneinfo: true });

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

export type { Self } from './self.ts';

export interface OwnAccountDeps extends OwnSignInMethodsDeps {
  /** Sends a verification link to a changed email address (when mail is configured). */
  readonly verification?: VerificationSender | undefined;
  /** Attempts to change the email address, per user (own-email-change.ts). */
  readonly emailChanges?: OwnEmailChangeDeps['emailChanges'];
  /** Resent links of a pending address change, per user (own-email-change.ts). */
  readonly emailChangeResends?: OwnEmailChangeDeps['resends'];
  /** An own change of address waits for the link mailed to the new one (own-email-change.ts); absent without mail. */
  readonly pendingEmailChanges?: OwnEmailChangeDeps['pendingChanges'];
}

/**
 * What a signed-in user can do to their own account on the account page. Everything is scoped
 * to `self.user.id`: a session, grant or passkey id of another user is "not found". Operator
 * operations are reused wherever they fit, so validation and audit are the same.
 */
export function ownAccountOperations(services: GatehouseServices, deps: OwnAccountDeps) {
  const { accounts, clients, revocation, audit } = services;
  const users = userOperations(services, deps.verification);
  const sessions = sessionOperations(services);
  const consents = consentOperations(services);
  const emailChange = ownEmailChange({ audit, accounts, emailChanges: deps.emailChanges, resends: deps.emailChangeResends, pendingChanges: deps.pendingEmailChanges });
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

  /** A password the user chose themselves ends a pending required password change (a temporary password). */
  async function passwordChosen(self: Self): Promise<void> {
    if (!(await accounts.completeRequiredAction(self.user.id, 'update_password'))) return;
    await audit.write({ ...contextOf(self), type: 'user.required_action_completed', target: target(self), details: { action: 'update_password' } });
  }

  async function otherSessions(self: Self) {
    return (await revocation.listSessions(self.user.id)).filter((session) => self.sessionUid === undefined || session.uid !== self.sessionUid);
  }

  return {
    ...ownSignInMethods(services, deps),

    /** `pending_email`: the new address the user asked for and has not confirmed yet (it is not their address until then). */
    profile: async (self: Self) => {
      const { id, username, email, email_verified, name, given_name, family_name, nickname, locale, zoneinfo, roles, groups, created_at } = showUser(self.user);
      const pending_email = await emailChange.pendingEmail(self);
      return { id, username, email, email_verified, pending_email, name, given_name, family_name, nickname, locale, zoneinfo, roles, groups, created_at, has_password: self.user.hasPassword };
    },

    /**
     * Saves the profile. A new address waits for confirmation (own-email-change.ts): the rest is
     * saved, the address is not — the user's address stays until the link mailed to the new one is followed.
     */
    async updateProfile(self: Self, body: unknown) {
      const patch = ownProfileSchema.parse(body);
      if (emailChange.pendsUntilConfirmed(self, patch.email)) {
        const address = await emailChange.check(self, patch.email);
        const { email: _pending, ...rest } = patch;
        const user = Object.keys(rest).length === 0 ? self.user : await users.update(contextOf(self), self.user.id, rest);
        await emailChange.request(self, address);
        return user;
      }
      if (patch.email !== undefined) await emailChange.countEmailChange(self, patch.email);
      return users.update(contextOf(self), self.user.id, patch);
    },

    /** Mails the link of the pending address change again (a new link; the old one stops working); nothing pending, nothing sent. */
    async resendEmailChange(self: Self): Promise<void> {
      await emailChange.resend(self);
    },

    /** Cancels the pending address change (none pending: nothing to do, as a second click on a slow page). */
    async cancelEmailChange(self: Self): Promise<void> {
      await emailChange.cancel(self);
    },

    /** Checks the current password (a wrong one counts toward the lockout like a sign-in), then sets the new one. */
    async changePassword(self: Self, body: unknown): Promise<{ signedOut: number }> {
      const input = passwordChangeSchema.parse(body);
      const checked = await accounts.authenticate(self.user.username, input.current_password, self.ip, ACCOUNT_CLIENT_ID);
      if (!checked.ok || checked.user.id !== self.user.id) {
        throw invalid('current_password', 'not_current_password');
      }
      await setNewPassword(self, input.new_password);
      await passwordChosen(self);
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
      await passwordChosen(self);
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
     * itself left out): those with a grant in force and those whose consent the user gave and keeps
     * (src/consents/records.ts) — signing out ends the grants, not the consent. `apis` are the
     * identifiers (addresses) of the APIs each may call; `api_details` the same with their display
     * names, and `gatehouse: "admin"` on Gatehouse's own admin API so the page can name it in the
     * reader's language. `via`: the clients acting on the user's behalf with a token exchanged
     * (RFC 8693) from this app's grant in force — listed under it and removed with it (revokeApp),
     * not as apps of their own. An exchanged grant outlives its original (signed out, revoked, the
     * app deleted): it is then the exchanging client's own entry, its `exchanged_from` naming the
     * app it came from (`name: null` once that app is deleted or was not recorded) apart from
     * what the client was granted itself (`scopes`, `apis`).
     */
    async apps(self: Self) {
      const byClient = new Map<string, AppEntry>();
      const entryOf = (clientId: string) => {
        const entry = byClient.get(clientId) ?? { scopes: new Set<string>(), resources: new Set<string>(), since: null, via: new Map(), from: new Map() };
        byClient.set(clientId, entry);
        return entry;
      };
      const noteSince = (entry: AppEntry, since: Date | null) => {
        if (since !== null && (entry.since === null || since < entry.since)) entry.since = since;
      };
      const note = (clientId: string, scopes: readonly string[], resources: readonly string[], since: Date | null) => {
        if (clientId === ACCOUNT_CLIENT_ID) return;
        const entry = entryOf(clientId);
        for (const scope of scopes) entry.scopes.add(scope);
        for (const resource of resources) entry.resources.add(resource);
        noteSince(entry, since);
      };
      const addApis = <K>(byKey: Map<K, Set<string>>, key: K, resources: readonly string[]) => {
        const apis = byKey.get(key) ?? new Set<string>();
        for (const resource of resources) apis.add(resource);
        byKey.set(key, apis);
      };
      // Which entry lists which grant is app-entry.ts's rule: "Remove access" removes exactly that.
      for (const { grant, entry: clientId, as } of listings(withOrigins(await revocation.listGrants(self.user.id)))) {
        if (clientId === ACCOUNT_CLIENT_ID) continue;
        if (as === 'own') {
          note(clientId, grant.scope.split(' ').filter(Boolean), grant.resources, grant.issuedAt);
          continue;
        }
        // Access exchanged through the app (by grant.clientId), or the client's own whose origin is gone (marked with it).
        const entry = entryOf(clientId);
        if (as === 'via') addApis(entry.via, grant.clientId, grant.resources);
        else {
          addApis(entry.from, grant.exchangedFrom?.clientId ?? null, grant.resources);
          noteSince(entry, grant.issuedAt);
        }
      }
      for (const record of await services.consents.ofUser(self.user.id)) note(record.clientId, record.scopes, Object.keys(record.resources), record.createdAt);
      const apps = [];
      for (const [clientId, entry] of byClient) {
        const client = await clients.get(clientId);
        // Its home page as a link only when it is http(s): never a javascript: link on the account page.
        const uri = webLink(client?.metadata.client_uri);
        const saidByApis = await apiScopes(entry.resources);
        apps.push({
          client_id: clientId,
          name: client?.displayName ?? clientId,
          url: uri ?? null,
          scopes: [...entry.scopes].filter((scope) => !saidByApis.has(scope)),
          apis: [...entry.resources],
          api_details: await Promise.all([...entry.resources].map(apiDetail)),
          via: await Promise.all([...entry.via].map(async ([other, resources]) => ({ client_id: other, name: await clientName(other), api_details: await Promise.all([...resources].map(apiDetail)) }))),
          exchanged_from: await Promise.all(
            [...entry.from].map(async ([origin, resources]) => ({
              client_id: origin,
              name: origin === null ? null : ((await clients.get(origin))?.displayName ?? null),
              api_details: await Promise.all([...resources].map(apiDetail)),
            })),
          ),
          granted_at: entry.since?.toISOString() ?? null,
        });
      }
      return apps.sort((a, b) => a.name.localeCompare(b.name));
    },

    /**
     * Removes the user's consent to the application and revokes the grants its entry lists (the
     * grants they gave it, the access exchanged from them, its own exchanged access whose origin is
     * gone: consents.ts revokeAccess), and with them their tokens; its next sign-in asks again.
     */
    async revokeApp(self: Self, clientId: string): Promise<void> {
      if (clientId === ACCOUNT_CLIENT_ID) throw notFound('app_not_found', clientId);
      const { found } = await consents.revokeAccess(contextOf(self), self.user.id, clientId);
      if (!found) throw notFound('app_not_found', clientId);
    },
  };
}

export type OwnAccountOperations = ReturnType<typeof ownAccountOperations>;
