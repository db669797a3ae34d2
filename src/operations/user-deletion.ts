import type { GatehouseServices } from '../services.ts';
import type { RevocationCounts } from '../storage/oidc/revocation.ts';
import type { OperationContext } from './context.ts';
import { notFound } from './errors.ts';
import { lastAdminGuard } from './last-admin.ts';

/** What a deletion took away, for its audit event and its callers. */
export interface UserDeleted {
  readonly id: string;
  readonly username: string;
  readonly revoked: RevocationCounts;
}

/**
 * Deletes a user for good (GDPR erasure; Keycloak's DELETE /admin/realms/{realm}/users/{id}),
 * in an order where a failure midway leaves no usable credential and a retry finishes the job:
 *
 * 0. refused for the last enabled admin (409 last_admin, src/operations/last-admin.ts);
 * 1. disabled first: no sign-in, refresh or token use succeeds from here on (every instance's
 *    cached copy dropped through the user-change notice); the password-reset links go with it;
 * 2. every sign-in session, grant and token revoked in both stores, as `DELETE /users/{id}/grants`
 *    does (the apps get their back-channel logout); every instance refuses the tokens at once;
 * 3. the other per-user records erased: upstream links (`upstream_links`), passkeys (`mfa_passkeys`),
 *    the authenticator app, recovery codes and used TOTP steps (`mfa_factors`, `mfa_recovery_codes`,
 *    `mfa_used_steps`), account-wide lockouts and failure counters (`login_lockouts`, `login_limits`
 *    or their Redis keys), and PER_USER_RECORDS (src/accounts/user-records.ts): consents, session
 *    devices, upstream sessions, link tickets, reset and verification links, password history and
 *    the last sign-in;
 * 4. the user document (`users`), with the roles and groups it holds (memberships live on it):
 *    the username and email are free for a new account;
 * 5. PER_USER_RECORDS, upstream links, passkeys and second factors erased once more: a batch of
 *    last sign-in times or session devices that an instance noted before the deletion, or a
 *    consent, upstream session, link, link ticket, reset, invitation or verification link, passkey,
 *    authenticator app or recovery code written by a request that found the user before step 1,
 *    may have landed since step 3; one landing after this finds the user gone and removes its own
 *    rows (src/accounts/deleted-user-rows.ts). A used TOTP step written by a sign-in meanwhile is
 *    not looked after: it expires with its code's window (src/mfa/used-step-expiry.ts).
 *
 * Kept: the audit trail (`audit_events`), a legal record of who did what — its events keep the
 * user id and whatever their details held, until the audit retention setting removes them; the
 * deletion itself is audited as `user.deleted` (the username at deletion). Also kept until they
 * expire on their own: per-(account, IP) failure counters (keyed by a digest, minutes) and rate
 * limits keyed by client or address (`attempt_limits`), which name no user. Roles and groups
 * themselves (`roles`, `groups`) are shared labels and stay.
 */
export function userDeletion(services: GatehouseServices) {
  const { accounts, audit, revocation, upstream, passkeys, factors, userRecords } = services;
  const lastAdmin = lastAdminGuard(services);

  return async function deleteUser(ctx: OperationContext, id: string): Promise<UserDeleted> {
    const user = await accounts.findById(id);
    if (user === undefined) throw notFound('user_not_found', id);
    await lastAdmin.removing(id, () => accounts.disable(id));
    const revoked = await revocation.revokeByAccountId(id);
    await upstream.unlinkAll(id);
    await passkeys.removeAll(id);
    await factors.reset(id);
    await accounts.unlock(id);
    await userRecords.erase(id);
    await accounts.remove(id);
    await userRecords.erase(id);
    await upstream.unlinkAll(id);
    await passkeys.removeAll(id);
    await factors.reset(id);
    await audit.write({ ...ctx, type: 'user.deleted', target: { type: 'user', id }, details: { username: user.username, revoked } });
    return { id, username: user.username, revoked };
  };
}

