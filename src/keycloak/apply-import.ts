import { DuplicateUserError } from '../accounts/errors.ts';
import type { UserAdmin } from '../accounts/user-admin.ts';
import type { StoredUser } from '../accounts/user-model.ts';
import type { ApiRegistry } from '../apis/registry.ts';
import type { ClaimScopes } from '../claims/claim-scopes.ts';
import type { ClaimScope } from '../claims/spec.ts';
import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';
import { CONSOLE_CLIENT_ID } from '../clients/console-client.ts';
import type { ClientRepository, ClientView } from '../clients/repository.ts';
import type { ConsentRecords } from '../consents/records.ts';
import type { Factors } from '../mfa/factors.ts';
import type { LabelDirectory } from '../roles/directory.ts';
import type { UpstreamDirectory } from '../upstream/directory.ts';
import { applyUpstreamLinks, applyUpstreamProviders } from './apply-identity-providers.ts';
import { parsePbkdf2Hash } from '../accounts/password-verifier.ts';
import { ADMIN_ROLE } from '../oidc/admin-scope.ts';
import { NO_USABLE_PASSWORD } from './map-password.ts';
import { ownString } from './own-string.ts';
import type { KeycloakReportBuilder, ReportSink } from './import-report.ts';
import type { KeycloakRealmPlan, KeycloakUsersPlan, PlannedUser } from './realm-import.ts';

/** The parts of the domain services an import writes through (src/services.ts provides them). */
export interface KeycloakImportServices {
  readonly apis: ApiRegistry;
  readonly roles: LabelDirectory;
  readonly groups: LabelDirectory;
  readonly clients: ClientRepository;
  readonly claimScopes: Pick<ClaimScopes, 'list' | 'create' | 'update'>;
  readonly users: UserAdmin;
  readonly factors: Pick<Factors, 'importTotp'>;
  readonly upstream: Pick<UpstreamDirectory, 'get' | 'create' | 'update' | 'findLink' | 'link'>;
  readonly consents: Pick<ConsentRecords, 'add'>;
}

/**
 * Writes a Keycloak import plan (src/keycloak/realm-import.ts) through the services; with
 * `dryRun` it only reports what would be created and updated. Idempotent: objects are matched
 * by their keys (role and group names, client ids, user ids = Keycloak ids) and replaced, except
 * a user's password, which a re-import replaces only when Keycloak's is newer than the one
 * Gatehouse holds (so passwords changed or upgraded to argon2id since are kept).
 */
export interface KeycloakImportOptions {
  readonly dryRun: boolean;
  /**
   * An API identifier: created (if missing) with Keycloak-shaped token claims, and made the
   * default API of every imported client, whose sign-ins then get its JWT as access token —
   * Keycloak's behaviour (a JWT with realm_access and resource_access for every app).
   */
  readonly api?: string | undefined;
  /** Gets every entry of the report as it is added (the CLI's `--report FILE`); the report itself keeps the first of each list. */
  readonly onEntry?: ReportSink | undefined;
  /**
   * false: the realm's settings (password policy, brute force, OTP policy, login options) are left
   * out — no runtime setting is changed and none of them is reported; everything else is imported
   * (the CLI's `--no-realm-settings`, the admin API's `realm_settings=false`). Default true.
   */
  readonly realmSettings?: boolean | undefined;
}

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

/**
 * Why an unmarked client holding an export's client_id is left alone (clientOfRealm). Never adopted:
 * what an import could compare (redirect URIs, grant types, authentication method none) is public
 * for a public client, so a hostile export copying it would take over a client made in Gatehouse.
 */
const UNMARKED_CLIENT =
  "client_id held by a client no import marked as this realm's — created in Gatehouse, or imported by a Gatehouse version before imports marked their clients —: left as it is (redirect URIs, secret, settings); an import never takes over an unmarked client. If it is this realm's client, delete it in Gatehouse (gatehouse clients delete ID: its consents and tokens go with it) and import again, or rename the client in Keycloak to import it as another";

/**
 * Whether a re-import of `realm` may replace `existing`, the client holding the client_id of a
 * planned client: only one this realm's import created (importedFrom). An unmarked one — created in
 * Gatehouse, or imported before imports marked their clients — is never taken: nothing an export
 * repeats proves it is the realm's (a public client's values are in every authorization request).
 */
function clientOfRealm(existing: ClientView, realm: string): boolean {
  return existing.importedFrom?.kind === 'keycloak' && existing.importedFrom.realm === realm;
}

/** Why a user's consent to a client that is a conflict is not written. */
const CONFLICT_CONSENT = "the client is a conflict (its client_id is held by a client this realm's import does not own): not written, it would be a consent to that other client";

/** Why a user's consent to a client Gatehouse does not hold is not written. */
const MISSING_CONSENT_CLIENT = "the client is not in Gatehouse (deleted since the realm file's import?): not written";

/** The client ids of Gatehouse's own apps (src/clients/console-client.ts, account-client.ts). */
const GATEHOUSE_CLIENTS: ReadonlySet<string> = new Set([CONSOLE_CLIENT_ID, ACCOUNT_CLIENT_ID]);

/** Writes the realm part of a plan (roles, groups, clients, identity providers, the API), adding what it did to `report` (the users' batches add theirs: applyKeycloakUsers). */
export async function applyKeycloakRealm(services: KeycloakImportServices, plan: KeycloakRealmPlan, { dryRun, api }: KeycloakImportOptions, report: KeycloakReportBuilder): Promise<void> {
  if (api !== undefined) {
    const created = (await services.apis.find(api)) === undefined;
    if (created && !dryRun) await services.apis.create({ identifier: api, name: `Keycloak realm ${plan.realm}`, tokenClaims: 'keycloak' });
    report.report.api = { identifier: api, created };
  }
  for (const client of plan.builtInClients) report.add('builtInClients', client);
  report.report.nativeClients = plan.nativeClients;
  for (const item of plan.unmapped) report.addUnmapped(item);
  for (const [kind, labels] of [['roles', plan.roles], ['groups', plan.groups]] as const) {
    const directory = kind === 'roles' ? services.roles : services.groups;
    for (const label of labels) {
      const exists = (await directory.get(label.name)) !== undefined;
      if (!exists && !dryRun) await directory.create(label.name, label.description);
      report.add(`${kind}.${exists ? 'updated' : 'created'}`, label.name);
    }
  }
  await applyClaimScopes(services.claimScopes, plan, dryRun, report);
  for (const client of plan.clients) {
    // Gatehouse's own apps' clients are never replaced: the console's reaches the admin API, and
    // an export naming it with another redirect URI would send administrators' codes there.
    if (GATEHOUSE_CLIENTS.has(client.clientId)) {
      report.addUnmapped({ kind: 'client', name: client.clientId, reason: "the client id of one of Gatehouse's own apps (admin console, account page): not imported, Gatehouse's client left as it is" });
      continue;
    }
    const existing = await services.clients.get(client.clientId);
    if (existing !== undefined && !clientOfRealm(existing, plan.realm)) {
      report.clientOwners.set(client.clientId, false);
      const reason = existing.importedFrom === undefined ? UNMARKED_CLIENT : `client_id held by a client the import of realm ${existing.importedFrom.realm} created: left as it is (redirect URIs, secret, settings). Rename the client in Keycloak to import it`;
      report.add('conflicts', { kind: 'client', name: client.clientId, reason });
      continue;
    }
    report.clientOwners.set(client.clientId, true);
    const allowedApis = new Set(existing?.allowedApis ?? client.allowedApis);
    const metadata = { ...client.metadata };
    // Its service-account roles come with its service-account user (applyKeycloakUsers), in the users' files.
    const serviceRoles = existing?.metadata.service_account_roles;
    if (serviceRoles !== undefined && (metadata.grant_types as string[]).includes('client_credentials')) metadata.service_account_roles = serviceRoles;
    if (api !== undefined) {
      allowedApis.add(api);
      metadata.default_api = api;
      if ((metadata.grant_types as string[]).includes('authorization_code')) metadata.login_uses_default_api = true;
    }
    if (!dryRun) {
      await services.clients.importOne({
        ...client,
        metadata,
        // Keep what Gatehouse added since (APIs the client may call, its creation time).
        allowedApis: [...allowedApis],
        createdAt: existing?.createdAt.toISOString() ?? client.createdAt,
        // Marked: a re-import of this realm may replace it (clientOfRealm).
        importedFrom: { kind: 'keycloak', realm: plan.realm },
      });
    }
    report.add(`clients.${existing === undefined ? 'created' : 'updated'}`, client.clientId);
  }
  await applyUpstreamProviders(services.upstream, plan.upstreamProviders, { dryRun }, report);
}

/**
 * The realm's claim scopes, before the clients that list them (the provider refuses a client naming
 * a scope it does not know). A scope of the same name is replaced (descriptions and mappers); a
 * mapper whose claim another Gatehouse scope gives is left out and reported (a claim comes from one
 * scope).
 */
async function applyClaimScopes(claimScopes: KeycloakImportServices['claimScopes'], plan: KeycloakRealmPlan, dryRun: boolean, report: KeycloakReportBuilder): Promise<void> {
  if (plan.claimScopes.length === 0) return;
  const current = await claimScopes.list();
  const planned = new Map(plan.claimScopes.map((scope) => [scope.name, scope.input] as const));
  const holdersOf = (scopes: readonly ClaimScope[]) => new Map(scopes.flatMap((scope) => scope.mappers.map((mapper) => [mapper.claim, scope.name] as const)));
  const others = current.filter((scope) => !planned.has(scope.name));
  // Scopes of the export's names the import may not replace (claimScopeOfRealm): they keep giving their claims.
  const kept = current.filter((scope) => planned.has(scope.name) && !claimScopeOfRealm(scope, plan.realm));
  const keptNames = new Set(kept.map((scope) => scope.name));
  const holders = holdersOf([...others, ...kept]);
  for (const { name, input } of plan.claimScopes) {
    const existing = current.find((scope) => scope.name === name);
    if (existing !== undefined && keptNames.has(name)) {
      const reason =
        existing.importedFrom === undefined
          ? "name held by a claim scope no import marked as this realm's — created in Gatehouse, or imported by a Gatehouse version before imports marked their scopes —: left as it is (its mappers and descriptions); an import never takes over an unmarked claim scope. The clients of the export that list it get Gatehouse's. If it is this realm's scope, delete it in Gatehouse (gatehouse claim-scopes delete NAME) and import again, or rename the client scope in Keycloak"
          : `name held by a claim scope the import of realm ${existing.importedFrom.realm} created: left as it is (its mappers and descriptions). The clients of the export that list it get that scope`;
      report.add('conflicts', { kind: 'client scope', name, reason });
      continue;
    }
    const mappers = input.mappers.filter((mapper) => {
      const holder = holders.get(mapper.claim);
      if (holder !== undefined) report.addUnmapped({ kind: 'client scope', name, reason: `claim ${mapper.claim}: Gatehouse's claim scope ${holder} gives it already (a claim comes from one scope); this mapper is not imported` });
      return holder === undefined;
    });
    const mark = { kind: 'keycloak', realm: plan.realm } as const;
    if (!dryRun) {
      if (existing !== undefined) await claimScopes.update(name, { description: input.description, mappers }, mark);
      else await claimScopes.create({ ...input, mappers }, mark);
    }
    report.add(`claimScopes.${existing !== undefined ? 'updated' : 'created'}`, name);
  }
}

/**
 * Whether a re-import of `realm` may replace `existing`, the claim scope of the export's name: only
 * one this realm's import created (importedFrom). An unmarked one is never taken: its mappers are
 * visible in the tokens it gives, so an export repeating them proves nothing.
 */
function claimScopeOfRealm(existing: ClaimScope, realm: string): boolean {
  return existing.importedFrom?.kind === 'keycloak' && existing.importedFrom.realm === realm;
}

/**
 * What a dry run keeps of the users it would have written, so that it reports what the import
 * would: a user whose username or email (normalized, as the unique indexes compare them) another
 * user of the file took before is a conflict, and so is one whose username or email a stored user
 * of another id holds — unless the file gave that user other ones before (the import would have
 * replaced it, freeing them); one whose id came in an earlier batch is updated. Memory: one entry
 * per user — its username key, email key and id (≈ 250 bytes: 100,000 users ≈ 25 MB) — never the
 * users; a real import keeps none (the store's indexes answer).
 */
export class DryRunUsers {
  /** `u:<usernameKey>` / `e:<emailKey>` → the id of the user of the file that holds it. */
  readonly #keys = new Map<string, string>();
  /** Ids of the users taken so far: what the store holds of them is replaced by what #keys says. */
  readonly #taken = new Set<string>();
  /** Ids of the earlier batches (the import looks a batch's users up before writing it). */
  readonly #ids = new Set<string>();

  /** Whether the user would be written (taking its names), or is a conflict; `store` answers who holds a name now. */
  async take(user: StoredUser, store: Pick<UserAdmin, 'holderOfUsername' | 'holderOfEmail'>): Promise<boolean> {
    const keys = [
      { key: `u:${user.usernameKey}`, holder: () => store.holderOfUsername(user.usernameKey) },
      { key: `e:${user.emailKey}`, holder: () => store.holderOfEmail(user.emailKey) },
    ];
    for (const { key, holder } of keys) {
      const taken = this.#keys.get(key);
      if (taken !== undefined) {
        if (taken !== user._id) return false;
        continue;
      }
      // A stored user the dry run has not replaced still holds its names, as the unique indexes would say.
      const stored = await holder();
      if (stored !== undefined && stored !== user._id && !this.#taken.has(stored)) return false;
    }
    // Copies (ownString): a slice of the file's block would keep the block alive.
    const id = ownString(user._id);
    for (const { key } of keys) this.#keys.set(ownString(key), id);
    this.#taken.add(id);
    return true;
  }

  /**
   * Who would hold a username key now, as the store would answer in the import (a derived username
   * avoids it): a user of the file taken so far; else `stored`, the store's holder (undefined: not
   * looked up yet) — or null, nobody, when the dry run took that user with other names.
   */
  holderOf(key: string, stored: string | null | undefined): string | null | undefined {
    const taken = this.#keys.get(`u:${key}`);
    if (taken !== undefined) return taken;
    return stored !== undefined && stored !== null && this.#taken.has(stored) ? null : stored;
  }

  written(id: string): boolean {
    return this.#ids.has(id);
  }

  batchDone(ids: Iterable<string>): void {
    for (const id of ids) this.#ids.add(ownString(id));
  }
}

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
    const existing = existingUsers.get(planned.user._id);
    // Marked: a re-import of this realm may update it (importedFrom, src/accounts/user-model.ts).
    let user: StoredUser = { ...planned.user, ...disabledState(planned.user.disabled, existing), importedFrom: { kind: 'keycloak', realm } };
    if (existing !== undefined && !importedFromRealm(existing, planned, realm)) {
      // The id is the `sub` apps know: a Gatehouse user's (or another realm's) is never taken over by an export naming it.
      report.add('conflicts', { user: planned.user.username, reason: existing.importedFrom === undefined ? UNMARKED_HOLDER : 'id held by a user not imported from this realm: left as it is' });
      continue;
    }
    if (existing !== undefined) {
      const keep =
        existing.passwordChangedAt !== null && existing.passwordChangedAt.getTime() >= planned.passwordSetAt.getTime() && existing.passwordHash !== user.passwordHash;
      if (keep) report.add('passwordsKept', user.username);
      if (user.disabled && !planned.user.disabled) report.add('disabledKept', user.username);
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
      if (existing.roles.includes(ADMIN_ROLE) && !existing.disabled && (!user.roles.includes(ADMIN_ROLE) || user.disabled)) {
        report.addUnmapped({ kind: 'user', name: user.username, reason: "holds Gatehouse's admin role: the re-import leaves it, and the user enabled (take it away in the console or the admin API)" });
        const { disabledBy: _by, ...enabled } = user;
        user = { ...enabled, roles: [...new Set([...user.roles, ADMIN_ROLE])].sort(), disabled: false };
      }
      // A password chosen here since (kept) was the change a temporary Keycloak password asked for.
      if (keep && user.requiredActions?.includes('update_password') === true) {
        const { requiredActions: _all, ...rest } = user;
        const left = user.requiredActions.filter((action) => action !== 'update_password');
        user = left.length > 0 ? { ...rest, requiredActions: left } : rest;
      }
    }
    if (planned.passwordAlgorithm !== undefined && user.passwordHash === planned.user.passwordHash) {
      const { passwordAlgorithms } = report.report;
      passwordAlgorithms[planned.passwordAlgorithm] = (passwordAlgorithms[planned.passwordAlgorithm] ?? 0) + 1;
    }
    const conflict = () => report.add('conflicts', { user: user.username, reason: 'another Gatehouse user has this username or email' });
    if (!dryRun) {
      try {
        await services.users.importOne(user);
      } catch (error) {
        if (!(error instanceof DuplicateUserError)) throw error;
        conflict();
        continue;
      }
    } else if (dryRunUsers !== undefined && !(await dryRunUsers.take(user, services.users))) {
      conflict();
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
 * Whether a users file may set `clientId`'s service-account roles: decided once per import
 * (report.clientOwners); not decided by the realm file (a users file on its own): a client marked
 * as this realm's, or none (reported below as before); an unmarked one or another realm's is a conflict.
 */
async function ownedClient(clients: ClientRepository, clientId: string, report: KeycloakReportBuilder): Promise<boolean> {
  const decided = report.clientOwners.get(clientId);
  if (decided !== undefined) return decided;
  const existing = await clients.get(clientId);
  const owned = existing === undefined || (existing.importedFrom?.kind === 'keycloak' && existing.importedFrom.realm === report.report.realm);
  report.clientOwners.set(clientId, owned);
  if (!owned) {
    const reason =
      existing.importedFrom === undefined
        ? "client_id held by a client no import marked as this realm's (created in Gatehouse, or imported before imports marked their clients): its service-account roles and the users' consents to it are left as they are. If it is this realm's client, delete it in Gatehouse (gatehouse clients delete ID) and import the realm file again"
        : `client_id held by a client the import of realm ${existing.importedFrom.realm} created: its service-account roles and the users' consents to it are left as they are`;
    report.add('conflicts', { kind: 'client', name: clientId, reason });
  }
  return owned;
}

/**
 * Whether a re-import of `realm` may update `existing`, the stored user holding the id of `planned`:
 * only a user this realm's import created. Users imported before the mark existed carry none; one
 * of them is taken as this realm's (and marked by the write) only when the stored password is still
 * the one a Keycloak import wrote and the export gives the same: a PBKDF2 hash (Gatehouse hashes
 * its own passwords with argon2id, and upgrades a PBKDF2 one at the next sign-in) or Keycloak's
 * no-usable-password marker, which nothing else writes. The export's own fields alone never decide.
 */
export function importedFromRealm(existing: StoredUser, planned: PlannedUser, realm: string): boolean {
  if (existing.importedFrom !== undefined) return existing.importedFrom.kind === 'keycloak' && existing.importedFrom.realm === realm;
  const stored = existing.passwordHash;
  if (stored === null || stored !== planned.user.passwordHash) return false;
  return stored === NO_USABLE_PASSWORD || parsePbkdf2Hash(stored) !== undefined;
}
