import { z } from 'zod';
import { invalid } from '../errors/gatehouse-error.ts';
import { says } from '../errors/problems.ts';
import { usernameKey } from '../accounts/normalize.ts';
import type { StoredUser } from '../accounts/user-model.ts';
import { applyKeycloakRealm, applyKeycloakUsers, emptyKeycloakReport, type KeycloakImportOptions, type KeycloakImportReport } from '../keycloak/apply-import.ts';
import { isObject, list } from '../keycloak/export-json.ts';
import { contextRoles, isUsersDocument, planKeycloakRealm, planKeycloakUsers, type CurrentUsers, type KeycloakUsersContext, type UserPass } from '../keycloak/realm-import.ts';
import { nulPath, refuseNulCharacters } from '../errors/nul-characters.ts';
import type { GatehouseServices } from '../services.ts';
import type { OperationContext } from './context.ts';

export const keycloakImportQuerySchema = z.object({
  dry_run: z.enum(['true', 'false']).optional(),
  /** An API identifier: created with Keycloak-shaped claims and made every imported client's default API. */
  api: z.string().refine((value) => URL.canParse(value) && new URL(value).hash === '', says('uri_example')).optional(),
});

/**
 * The admin API's body: a Keycloak realm export as `kc.sh export` writes it — a realm file (with
 * or without its users), or one users file of `kc.sh export --dir` (`{ "realm", "users" }`) of a
 * realm imported before. Only `realm` is required here; the rest is read leniently.
 */
export const keycloakRealmSchema = z.looseObject({ realm: z.string().min(1) });

/** Realm exports of many users are large; this route alone takes bodies up to this size. */
export const KEYCLOAK_IMPORT_BODY_LIMIT = 64 * 1024 * 1024;

/** Users mapped and written at a time, within one document: a users file of kc.sh (50 by default) is one batch. */
export const KEYCLOAK_USER_BATCH = 200;

/** A users file of `kc.sh export --dir`, read when its turn comes (once to check it, once per pass). */
export interface KeycloakUsersFile {
  /** Its name (`acme-users-3.json`), for messages. */
  readonly name: string;
  read(): Promise<unknown>;
}

/**
 * What the import reads: one document — a realm export (its own users, if any, included), or a
 * users file of a realm imported before — and, for a `kc.sh export --dir` directory, its users
 * files after the realm file, in order.
 */
export interface KeycloakExportSource {
  readonly document: unknown;
  readonly usersFiles?: readonly KeycloakUsersFile[];
}

/**
 * `gatehouse import --keycloak FILE|DIR [--dry-run]` and `POST /admin/api/v1/import/keycloak`:
 * maps a Keycloak realm export (src/keycloak/realm-import.ts) and applies it idempotently, or
 * with `dryRun` only reports what would be created and updated. Audited as `keycloak.imported`
 * (counts only: no names of users, no hashes).
 *
 * Memory: the realm document, then one batch of users at a time (a users file, or
 * KEYCLOAK_USER_BATCH users of a document): the users Gatehouse already has are looked up for
 * each batch by id and username (equalities the indexes serve), never read all at once. Users
 * whose username is a valid Gatehouse username are written first, in every file, then those
 * whose username is an email address: the names derived for these then avoid every other
 * user's (src/keycloak/user-identity.ts). A dry run writes nothing, so it keeps the usernames
 * it would give to find the same ones (a set of names, not the users).
 *
 * A users document on its own (`{ "realm", "users" }`) imports those users and nothing else,
 * mapped with what the last import of the realm's realm file kept (roles, groups, default role,
 * clients, identity providers: src/keycloak/realm-contexts.ts); without one it is refused.
 */
export async function importKeycloakRealm(services: GatehouseServices, ctx: OperationContext, source: KeycloakExportSource, options: KeycloakImportOptions): Promise<KeycloakImportReport> {
  const { document, usersFiles = [] } = source;
  const { dryRun } = options;
  const now = new Date(services.clock.now());
  // Refused whole, naming where (users.3.username): FerretDB on PostgreSQL cannot hold a NUL.
  refuseNulCharacters(document);
  let report: KeycloakImportReport;
  let context: KeycloakUsersContext;
  if (isUsersDocument(document) && usersFiles.length === 0) {
    const realm = (document as { realm: string }).realm;
    const kept = await services.keycloakRealms.get(realm);
    if (kept === undefined) throw invalid('realm', 'keycloak_realm_not_imported', { realm });
    context = kept;
    report = emptyKeycloakReport(realm, dryRun);
  } else {
    const planned = planKeycloakRealm(document, now);
    context = planned.context;
    // Every users file checked before anything is written.
    for (const file of usersFiles) checkUsersFile(await file.read(), file.name, context.realm);
    report = await applyKeycloakRealm(services, planned.plan, options);
    if (!dryRun) await services.keycloakRealms.save(context);
  }

  const roles = contextRoles(context);
  const sources: KeycloakUsersFile[] = [...(list((document as { users?: unknown }).users).length > 0 ? [{ name: '', read: () => Promise.resolve(document) }] : []), ...usersFiles];
  // A dry run writes nothing: the usernames it would give, so later batches do not give them again.
  const given = dryRun ? new Map<string, string>() : undefined;
  for (const pass of ['named', 'derived'] as const) {
    for (const file of sources) {
      const users = list(((await file.read()) as { users?: unknown }).users);
      for (let offset = 0; offset < users.length; offset += KEYCLOAK_USER_BATCH) {
        await importBatch(services, users.slice(offset, offset + KEYCLOAK_USER_BATCH), { context, roles, now, pass, offset, where: file.name === '' ? '' : `${file.name}: `, dryRun, given, report });
      }
    }
  }

  if (!dryRun) {
    await services.audit.write({
      ...ctx,
      type: 'keycloak.imported',
      target: { type: 'realm', id: report.realm },
      details: {
        roles: report.roles.created.length + report.roles.updated.length,
        groups: report.groups.created.length + report.groups.updated.length,
        clients: report.clients.created.length + report.clients.updated.length,
        users: report.users.created.length + report.users.updated.length,
        totp: report.totp.imported.length,
        consents: report.consents,
        upstreamProviders: report.upstream.created.length + report.upstream.updated.length,
        upstreamLinks: report.upstream.links.created,
        conflicts: report.conflicts.length,
        refusedUsers: report.refusedUsers.length,
        unmapped: report.unmapped.length,
        ...(report.api === undefined ? {} : { api: report.api.identifier }),
      },
    });
  }
  return report;
}

/** A users file: `{ "realm": <the realm file's>, "users": [ … ] }`, without NUL characters; refused naming the file. */
function checkUsersFile(document: unknown, name: string, realm: string): void {
  if (!isObject(document) || typeof document.realm !== 'string' || !Array.isArray(document.users)) throw invalid(name, 'not_keycloak_export');
  if (document.realm !== realm) throw invalid(`${name}: realm`, 'keycloak_other_realm', { found: document.realm, realm });
  const path = nulPath(document);
  if (path !== undefined) throw invalid(`${name}: ${path}`, 'nul_character');
}

interface BatchOptions {
  readonly context: KeycloakUsersContext;
  readonly roles: ReturnType<typeof contextRoles>;
  readonly now: Date;
  readonly pass: UserPass;
  readonly offset: number;
  readonly where: string;
  readonly dryRun: boolean;
  /** Dry run: username key → id of the usernames given so far. */
  readonly given: Map<string, string> | undefined;
  readonly report: KeycloakImportReport;
}

/**
 * One batch: its users as Gatehouse has them (by id, one equality each), the holders of the
 * usernames it derives (by usernameKey, as many as the names need), then mapped and written.
 */
async function importBatch(services: GatehouseServices, users: readonly unknown[], { context, roles, now, pass, offset, where, dryRun, given, report }: BatchOptions): Promise<void> {
  const existing = new Map<string, StoredUser>();
  for (const raw of users) {
    if (!isObject(raw) || typeof raw.id !== 'string' || raw.id === '' || existing.has(raw.id)) continue;
    const stored = await services.users.storedById(raw.id);
    if (stored !== undefined) existing.set(raw.id, stored);
  }
  const holders = new Map<string, string | null>();
  const current: CurrentUsers = { usernameOf: (id) => existing.get(id)?.username, holderOf: (key) => given?.get(key) ?? holders.get(key) };
  for (;;) {
    const plan = planKeycloakUsers(users, context, roles, now, current, { pass, offset, where });
    if ('missing' in plan) {
      for (const key of plan.missing) holders.set(key, (await services.users.holderOfUsername(key)) ?? null);
      continue;
    }
    await applyKeycloakUsers(services, plan, existing, dryRun, report);
    for (const { user } of plan.users) given?.set(usernameKey(user.username), user._id);
    return;
  }
}
