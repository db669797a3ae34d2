import { z } from 'zod';
import { invalid, InvalidRequestError } from '../errors/gatehouse-error.ts';
import { says } from '../errors/problems.ts';
import type { StoredUser } from '../accounts/user-model.ts';
import { applyKeycloakRealm, applyKeycloakUsers, DryRunUsers, type KeycloakImportOptions } from '../keycloak/apply-import.ts';
import { applyRealmSettings, realmLayoutNotes, type RealmSettingsTarget } from '../keycloak/apply-realm-settings.ts';
import { KeycloakReportBuilder, type KeycloakImportReport } from '../keycloak/import-report.ts';
import { isObject, KeycloakExportError, type UnmappedItem } from '../keycloak/export-json.ts';
import { REALM_USERS_NOTE, type PlannedRealmSettings } from '../keycloak/map-realm-settings.ts';
import type { KeycloakExportDocument } from '../keycloak/export-stream.ts';
import { userPassOf } from '../keycloak/map-users.ts';
import { refuseTooDeep } from '../keycloak/nesting.ts';
import { contextRoles, planKeycloakRealm, planKeycloakUsers, type CurrentUsers, type KeycloakUsersContext, type UserPass } from '../keycloak/realm-import.ts';
import { nulPath, refuseNulCharacters } from '../errors/nul-characters.ts';
import type { GatehouseServices } from '../services.ts';
import type { OperationContext } from './context.ts';

export const keycloakImportQuerySchema = z.object({
  dry_run: z.enum(['true', 'false']).optional(),
  /** An API identifier: created with Keycloak-shaped claims and made every imported client's default API. */
  api: z.string().refine((value) => URL.canParse(value) && new URL(value).hash === '', says('uri_example')).optional(),
  /** false: import everything but the realm's settings (no runtime setting changes). */
  realm_settings: z.enum(['true', 'false']).optional(),
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
export const KEYCLOAK_USER_BATCH = 50;

/**
 * What the import reads: the realm document — a realm export (its own users, if any, included), or
 * a users file of a realm imported before — and, for a `kc.sh export --dir` directory, its users
 * files after the realm file, in order. Each is read as a stream (src/keycloak/export-stream.ts).
 */
export interface KeycloakExportSource {
  readonly realm: KeycloakExportDocument;
  readonly usersFiles?: readonly KeycloakExportDocument[];
}

/** What the check pass keeps of a document for the write pass: which of the two passes must read its users again. */
interface CheckedDocument {
  readonly document: KeycloakExportDocument;
  /** It holds users whose Keycloak username is a valid Gatehouse username (or that are refused, or service accounts). */
  named: boolean;
  /** It holds users whose Keycloak username is an email address. */
  derived: boolean;
}

/**
 * `gatehouse import --keycloak FILE|DIR [--dry-run]` and `POST /admin/api/v1/import/keycloak`:
 * maps a Keycloak realm export (src/keycloak/realm-import.ts) and applies it idempotently, or
 * with `dryRun` only reports what would be created and updated. Audited as `keycloak.imported`
 * (counts only: no names of users, no hashes).
 *
 * Memory: the realm document without its users, then one batch of users at a time (a users file,
 * or KEYCLOAK_USER_BATCH users of a document), each document read as a stream: no document is
 * held whole, however many users it holds. The users Gatehouse already has are looked up for
 * each batch by id and username (equalities the indexes serve), never read all at once.
 *
 * Reads: every document is read once to check it (JSON, realm, NUL characters) before anything is
 * written — keeping of each only which passes need it — then again to write. Users whose username
 * is a valid Gatehouse username are written first, in every file, then those whose username is an
 * email address: the names derived for these then avoid every other user's
 * (src/keycloak/user-identity.ts). A document holding users of one kind only is read twice in
 * all (check, write); one holding both kinds three times (check, then once per pass), since keeping
 * every named user's username from the first pass instead would grow with the users. A dry run
 * writes nothing, so it keeps each user's names it would write (DryRunUsers: its username and
 * email keys and id, not the user) to find the same conflicts and derive the same usernames.
 * (One record serves both: a separate map of the usernames given, as there was, also held the
 * names of users that were conflicts, and those of stored users the file renamed, which the store
 * no longer holds in the import — its dry run derived jo-2 where the import gave jo.)
 *
 * The realm file's settings (password policy, brute force, OTP policy, login options) change
 * Gatehouse's runtime settings through `settings` (the settings operations), unless `dryRun` or
 * `realmSettings: false` (which leaves them out, reported as `settings.imported: false`).
 *
 * A users document on its own (`{ "realm", "users" }`) imports those users and nothing else,
 * mapped with what the last import of the realm's realm file kept (roles, groups, default role,
 * clients, identity providers: src/keycloak/realm-contexts.ts); without one it is refused.
 */
/** The settings operations a realm's settings are applied through (src/operations/settings.ts), with what applying them needs to know. */
export type KeycloakSettingsOperations = Omit<RealmSettingsTarget, 'update'> & {
  update(ctx: OperationContext, group: string, patch: Record<string, unknown>): Promise<unknown>;
};

/**
 * Left out with the realm's settings, the default role's roles are still the imported users' it is
 * mapped to (mapUsers), but not default_roles: said, since users created later no longer get them as in Keycloak.
 */
function defaultRolesLeftOut(planned: PlannedRealmSettings): UnmappedItem[] {
  const defaults = planned.settings.find((one) => one.setting === 'default_roles');
  if (defaults === undefined || !Array.isArray(defaults.value) || defaults.value.length === 0) return [];
  const reason = `the imported users the export maps it to have its roles (${defaults.value.join(', ')}); default_roles is left as it is (realm settings left out): users Gatehouse creates later get them only once it is set (PATCH /admin/api/v1/settings/sign-in, or import without --no-realm-settings)`;
  return [{ kind: REALM_USERS_NOTE, name: defaults.keycloak, reason }];
}

export async function importKeycloakRealm(services: GatehouseServices, ctx: OperationContext, source: KeycloakExportSource, options: KeycloakImportOptions, settings?: KeycloakSettingsOperations): Promise<KeycloakImportReport> {
  const { realm: realmDocument, usersFiles = [] } = source;
  const { dryRun } = options;
  const now = new Date(services.clock.now());
  const realmChecked: CheckedDocument = { document: realmDocument, named: false, derived: false };
  // The check pass. Refused whole, naming where (users.3.username): FerretDB on PostgreSQL cannot hold a NUL.
  const { members, users } = await realmDocument.read(checkUser(realmChecked));
  refuseNulCharacters(members);
  let report: KeycloakReportBuilder;
  let context: KeycloakUsersContext;
  const checked = users === undefined || users === 0 ? [] : [realmChecked];
  if (usersFiles.length === 0 && users !== undefined && typeof members.realm === 'string' && Object.keys(members).every((key) => key === 'realm')) {
    const realm = members.realm;
    const kept = await services.keycloakRealms.get(realm);
    if (kept === undefined) throw invalid('realm', 'keycloak_realm_not_imported', { realm });
    context = kept;
    report = new KeycloakReportBuilder(realm, dryRun, options.onEntry);
  } else {
    const planned = planKeycloakRealm(users === undefined ? members : { ...members, users: [] }, now);
    context = planned.context;
    const withSettings = options.realmSettings !== false;
    // Left out on request: no setting changes, and what the realm's settings would have reported is not said either.
    const plan = withSettings ? planned.plan : { ...planned.plan, unmapped: planned.plan.unmapped.filter((item) => item.kind !== 'realm setting') };
    // Every users file checked before anything is written.
    for (const file of usersFiles) checked.push(await checkUsersFile(file, context.realm));
    report = new KeycloakReportBuilder(planned.plan.realm, dryRun, options.onEntry);
    await applyKeycloakRealm(services, plan, options, report);
    // Where the realm's apps find it (Keycloak's URL layout, the issuer they check): said with or without the realm's settings.
    for (const note of realmLayoutNotes(planned.plan.realm, planned.plan.settings.frontendUrl, settings?.issuer)) report.addUnmapped(note);
    // The realm's settings through the settings operations (validated, pins kept, audited as settings.updated); a dry run only compares.
    if (settings !== undefined && withSettings) {
      await applyRealmSettings({ ...settings, update: (group, patch) => settings.update(ctx, group, patch) }, plan.settings, dryRun, report);
      report.report.settings.imported = true;
    }
    if (!withSettings) for (const note of defaultRolesLeftOut(plan.settings)) report.addUnmapped(note);
    if (!dryRun) await services.keycloakRealms.save(context);
  }

  // The write pass: each document's users in batches, read again (and checked again: a file changed since is no less safe).
  const roles = contextRoles(context);
  // A dry run writes nothing: it keeps the names of the users it would write, so that conflicts and
  // the usernames it derives are the import's (a name another user of the file took, or a stored
  // user gave up for another, is what the store would then say).
  const dryRunUsers = dryRun ? new DryRunUsers() : undefined;
  try {
    for (const pass of ['named', 'derived'] as const) {
      for (const one of checked) {
        if (!one[pass]) continue;
        const where = one.document.name === '' ? '' : `${one.document.name}: `;
        const batchOptions = { context, roles, now, pass, where, dryRun, dryRunUsers, report };
        const check = checkUser({ document: one.document, named: false, derived: false });
        let batch: unknown[] = [];
        let offset = 0;
        await one.document.read(async (user, index) => {
          check(user, index);
          batch.push(user);
          if (batch.length < KEYCLOAK_USER_BATCH) return;
          await importBatch(services, batch, { ...batchOptions, offset });
          [batch, offset] = [[], offset + batch.length];
        });
        if (batch.length > 0) await importBatch(services, batch, { ...batchOptions, offset });
      }
    }
  } catch (error) {
    // Only a file changed since it was checked gets here with a 400: say what was written before it.
    if (dryRun || !(error instanceof InvalidRequestError)) throw error;
    const { users: written } = report.report.counts;
    throw new InvalidRequestError(
      `${error.message} (the file changed after it was checked: the import stopped there, after writing the realm and ${written.created + written.updated} users; run it again once the file is whole, it is idempotent)`,
      error.details,
      error.problem,
    );
  }

  const { counts } = report.report;
  const both = (kind: { created: number; updated: number }) => kind.created + kind.updated;
  if (!dryRun) {
    await services.audit.write({
      ...ctx,
      type: 'keycloak.imported',
      target: { type: 'realm', id: report.report.realm },
      details: {
        roles: both(counts.roles),
        groups: both(counts.groups),
        clients: both(counts.clients),
        claimScopes: both(counts.claimScopes),
        users: both(counts.users),
        totp: counts.totp.imported,
        consents: report.report.consents,
        upstreamProviders: both(counts.upstream),
        upstreamLinks: report.report.upstream.links.created,
        conflicts: counts.conflicts,
        refusedUsers: counts.refusedUsers,
        unmapped: Object.values(counts.unmapped).reduce((sum, n) => sum + n, 0),
        settings: report.report.settings.changed.length,
        ...(report.report.api === undefined ? {} : { api: report.report.api.identifier }),
      },
    });
  }
  return report.report;
}

/** Checks one user of a document as it is read (no NUL character, no value nested too deep: refused naming where), noting which pass maps it. */
function checkUser(checked: CheckedDocument): (user: unknown, index: number) => void {
  const where = checked.document.name === '' ? '' : `${checked.document.name}: `;
  return (user, index) => {
    const path = nulPath(user);
    if (path !== undefined) throw invalid(`${where}users.${index}${path === '' ? '' : `.${path}`}`, 'nul_character');
    refuseTooDeep(user, `${where}users.${index}`);
    checked[userPassOf(user)] = true;
  };
}

/** A users file: `{ "realm": <the realm file's>, "users": [ … ] }`, without NUL characters; refused naming the file. */
async function checkUsersFile(document: KeycloakExportDocument, realm: string): Promise<CheckedDocument> {
  const { name } = document;
  const checked: CheckedDocument = { document, named: false, derived: false };
  let read: Awaited<ReturnType<KeycloakExportDocument['read']>>;
  try {
    read = await document.read(checkUser(checked));
  } catch (error) {
    if (error instanceof KeycloakExportError) throw invalid(name, 'not_keycloak_export');
    throw error;
  }
  const { members, users } = read;
  if (typeof members.realm !== 'string' || users === undefined) throw invalid(name, 'not_keycloak_export');
  if (members.realm !== realm) throw invalid(`${name}: realm`, 'keycloak_other_realm', { found: members.realm, realm });
  const path = nulPath(members);
  if (path !== undefined) throw invalid(`${name}: ${path}`, 'nul_character');
  return checked;
}

interface BatchOptions {
  readonly context: KeycloakUsersContext;
  readonly roles: ReturnType<typeof contextRoles>;
  readonly now: Date;
  readonly pass: UserPass;
  readonly offset: number;
  readonly where: string;
  readonly dryRun: boolean;
  /** Dry run: the users it would write (src/keycloak/apply-import.ts DryRunUsers). */
  readonly dryRunUsers: DryRunUsers | undefined;
  readonly report: KeycloakReportBuilder;
}

/**
 * One batch: its users as Gatehouse has them (by id, one equality each), the holders of the
 * usernames it derives (by usernameKey, as many as the names need), then mapped and written.
 */
async function importBatch(services: GatehouseServices, users: readonly unknown[], { context, roles, now, pass, offset, where, dryRun, dryRunUsers, report }: BatchOptions): Promise<void> {
  const existing = new Map<string, StoredUser>();
  for (const raw of users) {
    if (!isObject(raw) || typeof raw.id !== 'string' || raw.id === '' || existing.has(raw.id)) continue;
    const stored = await services.users.storedById(raw.id);
    if (stored !== undefined) existing.set(raw.id, stored);
  }
  const holders = new Map<string, string | null>();
  const current: CurrentUsers = {
    usernameOf: (id) => existing.get(id)?.username,
    holderOf: (key) => (dryRunUsers === undefined ? holders.get(key) : dryRunUsers.holderOf(key, holders.get(key))),
  };
  for (;;) {
    const plan = planKeycloakUsers(users, context, roles, now, current, { pass, offset, where });
    if ('missing' in plan) {
      for (const key of plan.missing) holders.set(key, (await services.users.holderOfUsername(key)) ?? null);
      continue;
    }
    await applyKeycloakUsers(services, plan, existing, dryRun, report, dryRunUsers);
    return;
  }
}
