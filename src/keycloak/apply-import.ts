import { DuplicateUserError } from '../accounts/errors.ts';
import type { UserAdmin } from '../accounts/user-admin.ts';
import type { StoredUser } from '../accounts/user-model.ts';
import type { ApiRegistry } from '../apis/registry.ts';
import type { ClientRepository } from '../clients/repository.ts';
import type { ConsentRecords } from '../consents/records.ts';
import type { Factors, TotpImportOutcome } from '../mfa/factors.ts';
import type { LabelDirectory } from '../roles/directory.ts';
import type { UpstreamDirectory } from '../upstream/directory.ts';
import { applyUpstreamLinks, applyUpstreamProviders, type UpstreamImportReport } from './apply-identity-providers.ts';
import type { KeycloakRealmPlan, KeycloakUsersPlan, RefusedUser, UnmappedItem } from './realm-import.ts';

type Outcome = 'created' | 'updated';

/** The parts of the domain services an import writes through (src/services.ts provides them). */
export interface KeycloakImportServices {
  readonly apis: ApiRegistry;
  readonly roles: LabelDirectory;
  readonly groups: LabelDirectory;
  readonly clients: ClientRepository;
  readonly users: UserAdmin;
  readonly factors: Pick<Factors, 'importTotp'>;
  readonly upstream: Pick<UpstreamDirectory, 'get' | 'create' | 'update' | 'findLink' | 'link'>;
  readonly consents: Pick<ConsentRecords, 'add'>;
}

export interface KeycloakImportReport {
  readonly realm: string;
  readonly dryRun: boolean;
  /** The API whose Keycloak-shaped JWTs the imported clients' sign-ins get, when one was named. */
  readonly api: { readonly identifier: string; readonly created: boolean } | undefined;
  readonly roles: Record<Outcome, string[]>;
  readonly groups: Record<Outcome, string[]>;
  readonly clients: Record<Outcome, string[]>;
  /** Keycloak's own clients (account, admin console, ...), skipped on purpose: Gatehouse has its own console, account page and admin API. */
  readonly builtInClients: readonly string[];
  /** Clients imported as native apps (`application_type: native`): their redirect URIs and what each is. */
  readonly nativeClients: Readonly<Record<string, readonly string[]>>;
  readonly users: Record<Outcome, string[]>;
  /** Users not imported because the admin API would refuse them (`field: message`); the others are imported. */
  readonly refusedUsers: RefusedUser[];
  /** Users whose Gatehouse password is newer than Keycloak's (changed or upgraded since the last import): kept. */
  readonly passwordsKept: string[];
  /** Kept Keycloak password hashes by algorithm (verified at sign-in, re-hashed to argon2id then). */
  readonly passwordAlgorithms: Record<string, number>;
  /** Authenticator apps (Keycloak OTP credentials) by what became of them (src/mfa/factors.ts TotpImportOutcome). */
  readonly totp: Record<TotpImportOutcome, string[]>;
  /** Users' consents to imported clients (Keycloak's `clientConsents`) kept as consent records: those apps do not ask these users again. */
  consents: number;
  /** Identity providers → upstream providers, and users' federated identities → upstream links. */
  readonly upstream: UpstreamImportReport;
  /** Users that could not be written (e.g. the username or email belongs to another Gatehouse user), links that belong to another user. */
  readonly conflicts: Array<{ readonly user: string; readonly reason: string }>;
  readonly unmapped: UnmappedItem[];
}

const outcomes = (): Record<Outcome, string[]> => ({ created: [], updated: [] });

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
}

/** A report with nothing imported yet: the realm file's import and a users file's start from it. */
export function emptyKeycloakReport(realm: string, dryRun: boolean): KeycloakImportReport {
  return {
    realm,
    dryRun,
    api: undefined,
    roles: outcomes(),
    groups: outcomes(),
    clients: outcomes(),
    builtInClients: [],
    nativeClients: {},
    users: outcomes(),
    refusedUsers: [],
    passwordsKept: [],
    passwordAlgorithms: {},
    totp: { imported: [], unchanged: [], kept: [] },
    consents: 0,
    upstream: { created: [], updated: [], secretsToSet: [], mapped: {}, links: { created: 0, unchanged: 0 } },
    conflicts: [],
    unmapped: [],
  };
}

/**
 * Writes the realm part of a plan (roles, groups, clients, identity providers, the API) and
 * returns the report the users' batches add to (applyKeycloakUsers).
 */
export async function applyKeycloakRealm(services: KeycloakImportServices, plan: KeycloakRealmPlan, { dryRun, api }: KeycloakImportOptions): Promise<KeycloakImportReport> {
  let apiOutcome: KeycloakImportReport['api'];
  if (api !== undefined) {
    const created = (await services.apis.find(api)) === undefined;
    if (created && !dryRun) await services.apis.create({ identifier: api, name: `Keycloak realm ${plan.realm}`, tokenClaims: 'keycloak' });
    apiOutcome = { identifier: api, created };
  }
  const report: KeycloakImportReport = {
    ...emptyKeycloakReport(plan.realm, dryRun),
    api: apiOutcome,
    builtInClients: plan.builtInClients,
    nativeClients: plan.nativeClients,
    unmapped: [...plan.unmapped],
  };
  for (const [kind, labels] of [['roles', plan.roles], ['groups', plan.groups]] as const) {
    const directory = kind === 'roles' ? services.roles : services.groups;
    for (const label of labels) {
      const exists = (await directory.get(label.name)) !== undefined;
      if (!exists && !dryRun) await directory.create(label.name, label.description);
      report[kind][exists ? 'updated' : 'created'].push(label.name);
    }
  }
  for (const client of plan.clients) {
    const existing = await services.clients.get(client.clientId);
    const allowedApis = new Set(existing?.allowedApis ?? client.allowedApis);
    const metadata = { ...client.metadata };
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
      });
    }
    report.clients[existing === undefined ? 'created' : 'updated'].push(client.clientId);
  }
  await applyUpstreamProviders(services.upstream, plan.upstreamProviders, { dryRun }, report.upstream);
  return report;
}

/**
 * Writes one batch of users (src/keycloak/realm-import.ts planKeycloakUsers) and adds what it did
 * to `report`. `existing`: the batch's users as Gatehouse holds them now (by id), looked up for
 * this batch alone.
 */
export async function applyKeycloakUsers(
  services: KeycloakImportServices,
  plan: KeycloakUsersPlan,
  existingUsers: ReadonlyMap<string, StoredUser>,
  dryRun: boolean,
  report: KeycloakImportReport,
): Promise<void> {
  report.refusedUsers.push(...plan.refusedUsers);
  report.unmapped.push(...plan.unmapped);
  const importedUsers = new Set<string>();
  for (const planned of plan.users) {
    const existing = existingUsers.get(planned.user._id);
    let user = planned.user;
    if (existing !== undefined) {
      const keep =
        existing.passwordChangedAt !== null && existing.passwordChangedAt.getTime() >= planned.passwordSetAt.getTime() && existing.passwordHash !== user.passwordHash;
      if (keep) report.passwordsKept.push(user.username);
      user = {
        ...user,
        passwordHash: keep ? existing.passwordHash : user.passwordHash,
        passwordChangedAt: keep ? existing.passwordChangedAt : user.passwordChangedAt,
        lastLoginAt: existing.lastLoginAt,
        createdAt: existing.createdAt,
        // A factor enrolled in Gatehouse since (an app, a passkey) keeps being asked for.
        secondFactor: existing.secondFactor === true || user.secondFactor === true,
      };
    }
    if (planned.passwordAlgorithm !== undefined && user.passwordHash === planned.user.passwordHash) {
      report.passwordAlgorithms[planned.passwordAlgorithm] = (report.passwordAlgorithms[planned.passwordAlgorithm] ?? 0) + 1;
    }
    if (!dryRun) {
      try {
        await services.users.importOne(user);
      } catch (error) {
        if (!(error instanceof DuplicateUserError)) throw error;
        report.conflicts.push({ user: user.username, reason: 'another Gatehouse user has this username or email' });
        continue;
      }
    }
    if (planned.totp !== undefined) {
      report.totp[await services.factors.importTotp(user._id, planned.totp, { write: !dryRun })].push(user.username);
    }
    report.users[existing === undefined ? 'created' : 'updated'].push(user.username);
    importedUsers.add(user._id);
  }
  for (const consent of plan.consents) {
    if (!importedUsers.has(consent.userId)) continue;
    // Added to what the user allowed in Gatehouse since (a re-import takes nothing away); the record keeps its first date.
    if (!dryRun) await services.consents.add(consent.userId, consent.clientId, { scopes: consent.scopes, claims: [], resources: {} }, { createdAt: consent.createdAt, updatedAt: consent.updatedAt });
    report.consents += 1;
  }
  await applyUpstreamLinks(services.upstream, plan.upstreamLinks, { dryRun, importedUsers }, report.upstream.links, report.conflicts);
}
