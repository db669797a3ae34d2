import { DuplicateUserError } from '../accounts/errors.ts';
import { parsePbkdf2Hash } from '../accounts/password-verifier.ts';
import type { StoredUser } from '../accounts/user-model.ts';
import type { ClientRepository } from '../clients/repository.ts';
import { ADMIN_ROLE } from '../oidc/admin-scope.ts';
import { applyUpstreamLinks } from './apply-identity-providers.ts';
import type { KeycloakImportServices } from './import-services.ts';
import { GATEHOUSE_CLIENTS, ownedClient } from './client-ownership.ts';
import type { DryRunUsers } from './dry-run-users.ts';
import type { KeycloakReportBuilder } from './import-report.ts';
import { ownString } from './own-string.ts';
import type { KeycloakUsersPlan, PlannedUser } from './realm-import.ts';

/**
 * Why an unmarked user holding an export's id is left alone. A Gatehouse user and a user an import
 * made before imports marked their users look the same; only a stored password that is still the
 * export's PBKDF2 one (or no usable password) tells the second (importedFromRealm). An argon2 hash
 * does not: Keycloak's argon2 and Gatehouse's argon2id share one format, so an export could carry a
 * copy of a Gatehouse user's hash (a `gatehouse export --unencrypted` file holds them). Decided: a
 * conflict, and the operator, who knows, deletes the user and imports again (the sub stays Keycloak's id).
 */
const UNMARKED_HOLDER =
  "id held by a user no import marked as this realm's — created in Gatehouse, or imported before imports marked their users and holding a password other than the export's PBKDF2 one (signed in since, changed, or an argon2 hash, which Gatehouse cannot tell from its own): left as it is. If it is this realm's user, delete it (gatehouse users delete ID: the sub stays Keycloak's id) and import again";

/** Why a user's consent to a client that is a conflict is not written. */
const CONFLICT_CONSENT = "the client is a conflict (its client_id is held by a client this realm's import does not own): not written, it would be a consent to that other client";

/** Why a user's consent to a client Gatehouse does not hold is not written. */
const MISSING_CONSENT_CLIENT = "the client is not in Gatehouse (deleted since the realm file's import?): not written";

/**
 * Writes one batch of users (src/keycloak/realm-import.ts planKeycloakUsers) and adds what it did
 * to `report`. `existing`: the batch's users as Gatehouse holds them now (by id), looked up for
 * this batch alone. `dryRunUsers`: a dry run's, kept across its batches.
 */
export async function applyKeycloakUsers(
  services: KeycloakImportServices,
  plan: KeycloakUsersPlan,
  existingUsers: ReadonlyMap<string, StoredUser>,
  dryRun: boolean,
  report: KeycloakReportBuilder,
  dryRunUsers?: DryRunUsers,
): Promise<void> {
  for (const refused of plan.refusedUsers) report.add('refusedUsers', refused);
  for (const item of plan.unmapped) report.addUnmapped(item);
  const importedUsers = new Set<string>();
  const { realm } = report.report;
  for (const planned of plan.users) {
    let existing = existingUsers.get(planned.user._id);
    let decision = decideUser(planned, existing, realm);
    let duplicate = false;
    if (!dryRun) {
      // Written only while the user is as read; changed since (an operator's disable), read again and decided again.
      for (let reads = 1; 'user' in decision; reads += 1) {
        let written: 'created' | 'updated' | 'changed';
        try {
          written = existing === undefined ? await services.users.importOne(decision.user) : await services.users.importOneIfUnchanged(decision.user, existing);
        } catch (error) {
          if (!(error instanceof DuplicateUserError)) throw error;
          duplicate = true;
          break;
        }
        if (written !== 'changed') break;
        existing = await services.users.storedById(planned.user._id);
        decision = reads < MAX_READS ? decideUser(planned, existing, realm) : { conflict: CHANGED_MEANWHILE };
      }
    }
    if (!('user' in decision)) {
      report.add('conflicts', { user: planned.user.username, reason: decision.conflict });
      continue;
    }
    const { user } = decision;
    if (decision.passwordKept) report.add('passwordsKept', user.username);
    if (decision.disabledKept) report.add('disabledKept', user.username);
    if (decision.adminKept) report.addUnmapped({ kind: 'user', name: user.username, reason: "holds Gatehouse's admin role: the re-import leaves it, and the user enabled (take it away in the console or the admin API)" });
    if (planned.passwordAlgorithm !== undefined && user.passwordHash === planned.user.passwordHash) {
      const { passwordAlgorithms } = report.report;
      passwordAlgorithms[planned.passwordAlgorithm] = (passwordAlgorithms[planned.passwordAlgorithm] ?? 0) + 1;
    }
    if (duplicate || (dryRunUsers !== undefined && !(await dryRunUsers.take(user, services.users)))) {
      report.add('conflicts', { user: user.username, reason: 'another Gatehouse user has this username or email' });
      continue;
    }
    if (planned.totp !== undefined) {
      report.add(`totp.${await services.factors.importTotp(user._id, planned.totp, { write: !dryRun })}`, user.username);
    }
    report.add(`users.${existing === undefined && dryRunUsers?.written(user._id) !== true ? 'created' : 'updated'}`, user.username);
    importedUsers.add(user._id);
  }
  for (const consent of plan.consents) {
    if (!importedUsers.has(consent.userId)) continue;
    const refused = await consentRefusal(services.clients, consent.clientId, dryRun, report);
    if (refused !== undefined) {
      report.addUnmapped({ kind: 'user consent', name: `${consent.username} → ${consent.clientId}`, reason: refused });
      continue;
    }
    // Added to what the user allowed in Gatehouse since (a re-import takes nothing away); the record keeps its first date.
    if (!dryRun) await services.consents.add(consent.userId, consent.clientId, { scopes: consent.scopes, claims: [], resources: {} }, { createdAt: consent.createdAt, updatedAt: consent.updatedAt });
    report.report.consents += 1;
  }
  await applyUpstreamLinks(services.upstream, plan.upstreamLinks, { dryRun, importedUsers }, report);
  await applyServiceAccounts(services.clients, plan, dryRun, report);
  dryRunUsers?.batchDone(importedUsers);
}

/** How often a user changed between the import's read and its write is read again before it is left as it is. */
const MAX_READS = 3;

/** Why a user that kept changing between the import's reads and its writes is left as it is. */
const CHANGED_MEANWHILE = 'changed in Gatehouse while the import wrote it, each time it was read again: left as it is; import again';

/** What a re-import writes of `planned` over `existing` (the stored user as read, if any), and what the report says of it — or why it may not. */
type UserDecision =
  | { readonly conflict: string }
  | { readonly user: StoredUser; readonly passwordKept: boolean; readonly disabledKept: boolean; readonly adminKept: boolean };

function decideUser(planned: PlannedUser, existing: StoredUser | undefined, realm: string): UserDecision {
  // Marked: a re-import of this realm may update it (importedFrom, src/accounts/user-model.ts).
  let user: StoredUser = { ...planned.user, ...disabledState(planned.user.disabled, existing), importedFrom: { kind: 'keycloak', realm } };
  if (existing === undefined) return { user, passwordKept: false, disabledKept: false, adminKept: false };
  // The id is the `sub` apps know: a Gatehouse user's (or another realm's) is never taken over by an export naming it.
  if (!importedFromRealm(existing, planned, realm)) return { conflict: existing.importedFrom === undefined ? UNMARKED_HOLDER : 'id held by a user not imported from this realm: left as it is' };
  const keep = existing.passwordChangedAt !== null && existing.passwordChangedAt.getTime() >= planned.passwordSetAt.getTime() && existing.passwordHash !== user.passwordHash;
  const disabledKept = user.disabled && !planned.user.disabled;
  user = {
    ...user,
    passwordHash: keep ? existing.passwordHash : user.passwordHash,
    passwordChangedAt: keep ? existing.passwordChangedAt : user.passwordChangedAt,
    lastLoginAt: existing.lastLoginAt,
    createdAt: existing.createdAt,
    // A factor enrolled in Gatehouse since (an app, a passkey) keeps being asked for.
    secondFactor: existing.secondFactor === true || user.secondFactor === true,
  };
  // Gatehouse's admin role (the console, the admin API) is given and taken in Gatehouse, under the
  // last-admin guard: a re-import takes it from nobody, nor disables one who holds it.
  const adminKept = existing.roles.includes(ADMIN_ROLE) && !existing.disabled && (!user.roles.includes(ADMIN_ROLE) || user.disabled);
  if (adminKept) {
    const { disabledBy: _by, ...enabled } = user;
    user = { ...enabled, roles: [...new Set([...user.roles, ADMIN_ROLE])].sort(), disabled: false };
  }
  // A password chosen here since (kept) was the change a temporary Keycloak password asked for.
  if (keep && user.requiredActions?.includes('update_password') === true) {
    const { requiredActions: _all, ...rest } = user;
    const left = user.requiredActions.filter((action) => action !== 'update_password');
    user = left.length > 0 ? { ...rest, requiredActions: left } : rest;
  }
  return { user, passwordKept: keep, disabledKept, adminKept };
}

/**
 * A user's disabled flag as an import writes it: Keycloak's (`disabled`: the realm has the user
 * disabled, recorded as the import's), unless the user is disabled in Gatehouse by someone else — an
 * operator (admin API, CLI, console: src/accounts/accounts.ts disable), or before who disabled was
 * recorded — whose disable no re-import undoes (reported as disabledKept). A user Keycloak disabled
 * and enabled again comes back enabled; one an operator enabled is disabled again only by a re-import
 * that says so.
 */
function disabledState(disabled: boolean, existing: StoredUser | undefined): Pick<StoredUser, 'disabled' | 'disabledBy'> {
  if (existing?.disabled === true && existing.disabledBy !== 'import') return existing.disabledBy === undefined ? { disabled: true } : { disabled: true, disabledBy: existing.disabledBy };
  return disabled ? { disabled: true, disabledBy: 'import' } : { disabled: false };
}

/**
 * Keycloak's service-account users are not users here: their effective roles become their clients'
 * `service_account_roles`, which the clients' client_credentials tokens carry (replaced whole, as a
 * user's roles are). Never Gatehouse's own apps' clients (reported with the realm); never `admin`
 * (src/keycloak/map-roles.ts gives it to nobody).
 */
async function applyServiceAccounts(clients: ClientRepository, plan: KeycloakUsersPlan, dryRun: boolean, report: KeycloakReportBuilder): Promise<void> {
  for (const { username, clientId, roles } of plan.serviceAccounts) {
    if (GATEHOUSE_CLIENTS.has(clientId)) continue;
    // Only the realm's own clients (a conflict of applyKeycloakRealm, or — a users file on its own — one marked as another realm's or unmarked, is left as it is).
    if (!(await ownedClient(clients, clientId, report))) continue;
    if (!dryRun) {
      const client = await clients.get(clientId);
      if (client === undefined) {
        report.addUnmapped({ kind: 'service account', name: username, reason: `its client ${clientId} is not in Gatehouse (deleted since the realm file's import?): its roles are not carried over` });
        continue;
      }
      const { service_account_roles: held, ...metadata } = client.metadata;
      if (JSON.stringify(held ?? []) !== JSON.stringify(roles)) await clients.update(clientId, { metadata: roles.length > 0 ? { ...metadata, service_account_roles: [...roles] } : metadata });
    }
    report.add('serviceAccounts', { client: ownString(clientId), roles: roles.map(ownString) });
  }
}

/**
 * Why users' consents to `clientId` are not written, or undefined: they are. A consent names a
 * client_id, so one to a client this realm's import does not own (a conflict, or one of Gatehouse's
 * own apps) would be a consent to that other client; one to a client Gatehouse does not hold (a
 * users file on its own, the client deleted since) would be one to whatever client takes the id
 * later. Decided once per import (report.consentClients).
 */
async function consentRefusal(clients: ClientRepository, clientId: string, dryRun: boolean, report: KeycloakReportBuilder): Promise<string | undefined> {
  if (report.consentClients.has(clientId)) return report.consentClients.get(clientId);
  // Decided by the realm file of this import: its own clients are written (a dry run's would be).
  const byRealmFile = report.clientOwners.get(clientId) === true;
  let refusal: string | undefined;
  if (GATEHOUSE_CLIENTS.has(clientId) || !(await ownedClient(clients, clientId, report))) refusal = CONFLICT_CONSENT;
  else if (!(byRealmFile && dryRun) && (await clients.get(clientId)) === undefined) refusal = MISSING_CONSENT_CLIENT;
  report.consentClients.set(clientId, refusal);
  return refusal;
}

/**
 * Whether a re-import of `realm` may update `existing`, the stored user holding the id of `planned`:
 * only a user this realm's import created. Users imported before the mark existed carry none; one
 * of them is taken as this realm's (and marked by the write) only when the stored password is still
 * the one a Keycloak import wrote and the export gives the same PBKDF2 hash (Gatehouse hashes its
 * own passwords with argon2id, and upgrades a PBKDF2 one at the next sign-in). The hash proves it: it
 * is secret (salted; only the realm's own export, or a Gatehouse backup, holds it), so an export
 * carrying it comes from whoever holds that user's credentials already. Not Keycloak's
 * no-usable-password marker, though nothing else writes it: it is a constant, and the id is the
 * `sub` every app sees — an export of any realm could name both and take the user over (its email
 * replaced, then a password reset). The export's own fields alone never decide.
 */
export function importedFromRealm(existing: StoredUser, planned: PlannedUser, realm: string): boolean {
  if (existing.importedFrom !== undefined) return existing.importedFrom.kind === 'keycloak' && existing.importedFrom.realm === realm;
  const stored = existing.passwordHash;
  if (stored === null || stored !== planned.user.passwordHash) return false;
  return parsePbkdf2Hash(stored) !== undefined;
}
