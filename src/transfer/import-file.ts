import { z, ZodError } from 'zod';
import type { StoredUser } from '../accounts/user-model.ts';
import { emailKey, noEmailKey, usernameKey } from '../accounts/normalize.ts';
import { REQUIRED_ACTIONS } from '../accounts/required-actions.ts';
import { SERVICE_ACCOUNT_PREFIX, usernameProblem } from '../config/username-rule.ts';
import { storedProfileAttributes } from '../accounts/profile-attributes.ts';
import { storedCustomAttributes } from '../accounts/custom-attributes.ts';
import type { ExportedClient } from '../clients/repository.ts';
import { MAX_SECRET_GRACE_SECONDS } from '../clients/secret-grace.ts';
import { enrolmentKeeper } from '../mfa/enrolment.ts';
import type { TotpImportOutcome } from '../mfa/factors.ts';
import { TOTP_ALGORITHMS, TOTP_DIGITS } from '../mfa/totp.ts';
import type { GatehouseServices } from '../services.ts';
import { nestedDeeperThan } from '../errors/nesting.ts';
import { says } from '../errors/problems.ts';
import { MAX_KEYCLOAK_NESTING } from '../keycloak/nesting.ts';
import { claimScopesSection, restoreClaimScopes } from './claim-scopes-section.ts';
import { date, EXPORT_FORMAT, importMark, type ImportConflict } from './sections.ts';
import { planSettings, settingsCount, settingsSection, type SettingsChecksOver, type SettingsOutcome } from './settings-section.ts';
import { restoreLinks, restoreProviders, upstreamLinksSection, upstreamProvidersSection } from './upstream-section.ts';

/** `gatehouse import` of a file `gatehouse export` wrote (src/transfer/export-file.ts): its check, dry run and import. */

/*
 * Nesting: values the file holds as they are (a client's metadata, a Keycloak realm's context) go to
 * writers that recurse (the BSON serializer, JSON.stringify) and overflow the stack a few thousand
 * levels down — after everything before them was written. Refused by the check instead (the dry run
 * too), naming them: no client's metadata nests deeper than a few levels (jwks: 5), and a realm's
 * context nests no deeper than the Keycloak import takes (MAX_KEYCLOAK_NESTING), so what it imported exports.
 */
const MAX_METADATA_NESTING = 32;
const notDeeperThan = (max: number) => [(value: unknown) => !nestedDeeperThan(value, max), says('too_deep', { max })] as const;
const importSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(1),
  admin_audience: z.string(),
  apis: z.array(
    z.object({
      identifier: z.string(),
      name: z.string(),
      scopes: z.array(z.string()),
      format: z.enum(['jwt', 'opaque']),
      alg: z.enum(['RS256', 'ES256']),
      accessTokenTtl: z.number(),
      includeRoles: z.boolean(),
      includeGroups: z.boolean(),
      tokenClaims: z.enum(['gatehouse', 'keycloak']).optional(),
      clientId: z.string().optional(),
    }),
  ),
  roles: z.array(z.object({ name: z.string().min(1), description: z.string() })),
  groups: z.array(z.object({ name: z.string().min(1), description: z.string() })),
  clients: z.array(
    z.object({
      clientId: z.string().min(1),
      displayName: z.string(),
      firstParty: z.boolean(),
      allowedApis: z.array(z.string()),
      webOrigins: z.array(z.string()),
      admin: z.boolean(),
      metadata: z.record(z.string(), z.unknown()).refine(...notDeeperThan(MAX_METADATA_NESTING)),
      secret: z.string().nullable(),
      // The secret before a rotation, while its grace lasts; files written before it was carried have none (it ends).
      previousSecret: z.object({ secret: z.string().min(1), expiresAt: date }).optional(),
      // The Keycloak realm an import created the client from (a re-import of that realm may replace it); files written before the mark existed have none.
      importedFrom: importMark.optional(),
      createdAt: date,
      updatedAt: date,
    }),
  ),
  users: z.array(
    z.object({
      _id: z.string().min(1),
      // The admin API's rule (src/config/username-rule.ts): an edited or foreign file brings no name it would refuse.
      username: z
        .string()
        .refine((username) => usernameProblem(username) !== 'username_format', says('username_format'))
        .refine((username) => usernameProblem(username) !== 'username_reserved', says('username_reserved', { prefix: SERVICE_ACCOUNT_PREFIX })),
      // Written by `gatehouse export`, not believed: the keys are made again from the name and address
      // (an edited key would let one user sign in by another's name, or two share one name).
      usernameKey: z.string().optional(),
      email: z.string().nullable(),
      emailKey: z.string().optional(),
      emailVerified: z.boolean(),
      givenName: z.string().nullable(),
      familyName: z.string().nullable(),
      name: z.string().nullable(),
      attributes: storedProfileAttributes.optional(),
      customAttributes: storedCustomAttributes.optional(),
      roles: z.array(z.string()),
      groups: z.array(z.string()),
      disabled: z.boolean(),
      // Who disabled the user (a Keycloak re-import undoes only its own disable); files written before it was recorded have none, taken as an operator's.
      disabledBy: z.enum(['import', 'operator']).optional(),
      // What the user must do at their next sign-in (a temporary password's update_password among them); files written before required actions existed have none.
      requiredActions: z.array(z.enum(REQUIRED_ACTIONS)).optional(),
      // Decides whom GATEHOUSE_REQUIRE_VERIFIED_EMAIL=self-registered stops.
      selfRegistered: z.boolean().optional(),
      // The Keycloak realm an import created the user from (a re-import of that realm may update it); files written before the mark existed have none.
      importedFrom: importMark.optional(),
      passwordHash: z.string().min(1).nullable(),
      passwordChangedAt: date.nullable(),
      lastLoginAt: date.nullable(),
      createdAt: date,
      updatedAt: date,
    }),
  )
  // One name or address to sign in with is one user: the keys are made here from them (not taken
  // from the file), and two users the file gives one key would meet the unique index half-way
  // through the import. Refused before anything is written, naming both entries.
  .superRefine((users, ctx) => {
    const byName = new Map<string, number>();
    const byEmail = new Map<string, number>();
    users.forEach((user, index) => {
      const name = usernameKey(user.username);
      const sameName = byName.get(name);
      if (sameName !== undefined) ctx.addIssue({ code: 'custom', path: [index, 'username'], ...says('same_sign_in_name', { other: `users.${sameName}.username`, name: user.username }) });
      else byName.set(name, index);
      if (user.email === null) return;
      const address = emailKey(user.email);
      const sameAddress = byEmail.get(address);
      if (sameAddress !== undefined) ctx.addIssue({ code: 'custom', path: [index, 'email'], ...says('same_sign_in_name', { other: `users.${sameAddress}.email`, name: user.email }) });
      else byEmail.set(address, index);
    });
  }),
  // Files written before second factors and consents were exported have none of these.
  issuer: z.string().optional(),
  recovery_code_key: z.string().optional(),
  second_factors: z
    .array(
      z.object({
        userId: z.string().min(1),
        totp: z
          .object({
            secret: z.string().regex(/^[A-Z2-7]{16,}=*$/),
            algorithm: z.enum(TOTP_ALGORITHMS),
            digits: z.number().int().min(TOTP_DIGITS.min).max(TOTP_DIGITS.max),
            period: z.number().int().min(1).max(300),
            confirmedAt: date,
          })
          .nullable(),
        lastTotpStep: z.number().int().min(0),
        recoveryCodes: z.array(z.string().min(1)),
      }),
    )
    .default([]),
  passkeys: z
    .array(
      z.object({
        id: z.string().min(1),
        userId: z.string().min(1),
        publicKey: z.string().min(1),
        counter: z.number().int().min(0),
        transports: z.array(z.string()),
        name: z.string(),
        deviceType: z.string().min(1),
        createdAt: date,
        lastUsedAt: date.nullable(),
      }),
    )
    .default([]),
  consents: z
    .array(
      z.object({
        userId: z.string().min(1),
        clientId: z.string().min(1),
        scopes: z.array(z.string()),
        claims: z.array(z.string()),
        resources: z.record(z.string(), z.array(z.string())),
        createdAt: date,
        updatedAt: date,
      }),
    )
    .default([]),
  // Files written before Keycloak realms' contexts were exported have none.
  keycloak_realms: z
    .array(
      z.object({
        realm: z.string().min(1),
        defaultRole: z.string(),
        roles: z.object({ realm: z.array(z.unknown()), client: z.record(z.string(), z.array(z.unknown())) }),
        groups: z.array(z.unknown()),
        clients: z.array(z.string()),
        aliases: z.record(z.string(), z.string()),
        updatedAt: date,
      }).refine(...notDeeperThan(MAX_KEYCLOAK_NESTING)),
    )
    .default([]),
  // Files written before these were exported have none: what they hold here stays as it is.
  claim_scopes: claimScopesSection.default([]),
  upstream_providers: upstreamProvidersSection.default([]),
  upstream_links: upstreamLinksSection.default([]),
  settings: settingsSection.default({}),
});

type Counts = { created: number; updated: number };

/** What an export holds, by kind: the counts `gatehouse export` prints. */
export type ExportCounts = Record<
  'apis' | 'roles' | 'groups' | 'clients' | 'users' | 'second_factors' | 'passkeys' | 'consents' | 'keycloak_realms' | 'claim_scopes' | 'upstream_providers' | 'upstream_links' | 'settings',
  number
>;

type ImportData = z.output<typeof importSchema>;

/**
 * The file checked for import at `now`: its shape, then what depends on the time — a client's
 * previous secret may work at most MAX_SECRET_GRACE_SECONDS after the import, as long as a rotation
 * here could give it (an export carries a grace a rotation gave; an edited file could give years).
 * A grace already over is taken (the import drops it).
 */
function checkedAt(document: unknown, now: () => Date): ImportData {
  const data = importSchema.parse(document);
  const latest = new Date(now().getTime() + MAX_SECRET_GRACE_SECONDS * 1000);
  const issues: z.core.$ZodIssue[] = [];
  data.clients.forEach((client, index) => {
    const until = client.previousSecret?.expiresAt;
    if (until === undefined || new Date(until) <= latest) return;
    const { message, params } = says('too_big', { max: latest.toISOString() });
    issues.push({ code: 'custom', path: ['clients', index, 'previousSecret', 'expiresAt'], message, params, input: until });
  });
  if (issues.length > 0) throw new ZodError(issues);
  return data;
}

/**
 * `gatehouse import --dry-run`: the document checked as the import checks it at `now`, and what it
 * holds — nothing read from or written to a database (a backup's passphrase and contents can be
 * verified anywhere).
 */
export function checkExport(document: unknown, now: Date): ExportCounts {
  return exportCounts(checkedAt(document, () => now));
}

/** How many of each kind a document checked for import holds (settings: how many settings it sets). */
export function exportCounts(data: ImportData): ExportCounts {
  return {
    apis: data.apis.length,
    roles: data.roles.length,
    groups: data.groups.length,
    clients: data.clients.length,
    users: data.users.length,
    second_factors: data.second_factors.length,
    passkeys: data.passkeys.length,
    consents: data.consents.length,
    keycloak_realms: data.keycloak_realms.length,
    claim_scopes: data.claim_scopes.length,
    upstream_providers: data.upstream_providers.length,
    upstream_links: data.upstream_links.length,
    settings: settingsCount(data.settings),
  };
}

/** Conflicts listed in the summary (all are counted). */
const CONFLICTS_LISTED = 100;

export type ImportSummary = {
  readonly apis: Counts;
  readonly roles: Counts;
  readonly groups: Counts;
  readonly clients: Counts;
  readonly users: Counts;
  readonly second_factors: {
    /** Authenticator apps: taken (new, or newer than the user's here), already there, or left for a newer one enrolled here. */
    readonly totp: Record<TotpImportOutcome, number>;
    /** Users whose recovery codes were written; users whose codes stay behind (another GATEHOUSE_SECRET: they cannot be checked here). */
    readonly recovery_codes: { users: number; not_carried: number };
    /** `not_carried`: passkeys made for another host (WebAuthn's RP ID), which browsers would not use here. */
    readonly passkeys: Counts & { conflicts: number; not_carried: number };
  };
  /** Consent records written or added to. */
  consents: number;
  /** Keycloak realms' contexts (src/keycloak/realm-contexts.ts): their users files can be imported here on their own. */
  readonly keycloak_realms: Counts;
  readonly claim_scopes: Counts;
  readonly upstream_providers: Counts;
  /** Users' links to upstream identities: `conflicts`, an identity linked to another user here (that link stays). */
  readonly upstream_links: { created: number; unchanged: number; conflicts: number };
  /** Runtime settings: `changed` (`group.setting`) in force; `pinned`, the file's values this deployment's environment overrides (left out). */
  settings: SettingsOutcome;
  /** What the file brings that was left as it is here, and why (the first CONFLICTS_LISTED; `conflicts_total` counts them all). */
  readonly conflicts: ImportConflict[];
  conflicts_total: number;
};

/**
 * `gatehouse import`: idempotent (objects are matched by their keys and replaced), secrets
 * re-sealed under this deployment's GATEHOUSE_SECRET, user ids (`sub`) and client ids kept.
 * The source's admin API audience is mapped onto this deployment's. Second factors never go
 * backwards: an app, passkey or recovery codes the user has here since the export stay.
 * Everything is checked before the first write: the file's shape (400 naming the field), and
 * the runtime settings against this deployment's pins and rules (src/transfer/settings-section.ts;
 * `settingsChecks`: the admin API's checks of a settings change, src/operations/settings-checks.ts,
 * which the operation passes; without them only each group's own rules are checked).
 */
export async function importAll(services: GatehouseServices, document: unknown, issuer: string, settingsChecks: SettingsChecksOver = () => ({})): Promise<ImportSummary> {
  const data = checkedAt(document, () => new Date(services.clock.now()));
  const settings = await planSettings(services.runtimeSettings, data.settings, settingsChecks, { roles: services.roles, groups: services.groups }, { roles: data.roles.map((role) => role.name), groups: data.groups.map((group) => group.name) });
  const conflicts: ImportConflict[] = [];
  let conflictsTotal = 0;
  const conflict = (one: ImportConflict) => {
    conflictsTotal += 1;
    if (conflicts.length < CONFLICTS_LISTED) conflicts.push(one);
  };
  const count0 = () => ({ created: 0, updated: 0 });
  const summary: ImportSummary = {
    apis: count0(),
    roles: count0(),
    groups: count0(),
    clients: count0(),
    users: count0(),
    second_factors: { totp: { imported: 0, unchanged: 0, kept: 0 }, recovery_codes: { users: 0, not_carried: 0 }, passkeys: { ...count0(), conflicts: 0, not_carried: 0 } },
    consents: 0,
    keycloak_realms: count0(),
    claim_scopes: count0(),
    upstream_providers: count0(),
    upstream_links: { created: 0, unchanged: 0, conflicts: 0 },
    settings: { changed: [], pinned: settings.pinned },
    conflicts,
    conflicts_total: 0,
  };
  const count = (kind: 'apis' | 'roles' | 'groups' | 'clients' | 'users' | 'keycloak_realms', outcome: 'created' | 'updated') => (summary[kind][outcome] += 1);

  for (const api of data.apis) {
    if ((await services.apis.find(api.identifier)) === undefined) {
      await services.apis.create(api);
      count('apis', 'created');
    } else {
      const { identifier, clientId: _clientId, ...rest } = api;
      await services.apis.update(identifier, rest);
      count('apis', 'updated');
    }
  }
  for (const [kind, list] of [['roles', data.roles], ['groups', data.groups]] as const) {
    const directory = kind === 'roles' ? services.roles : services.groups;
    for (const label of list) {
      const existed = (await directory.get(label.name)) !== undefined;
      if (!existed) await directory.create(label.name, label.description);
      count(kind, existed ? 'updated' : 'created');
    }
  }
  // Before the clients that list them (their `scope`).
  Object.assign(summary.claim_scopes, await restoreClaimScopes(services.claimScopes, data.claim_scopes, conflict));
  const mapAudience = (list: readonly string[]) => list.map((api) => (api === data.admin_audience ? services.adminAudience : api));
  for (const client of data.clients) {
    const metadata = { ...client.metadata };
    if (metadata.default_api === data.admin_audience) metadata.default_api = services.adminAudience;
    const exported: ExportedClient = { ...client, allowedApis: mapAudience(client.allowedApis), metadata };
    count('clients', await services.clients.importOne(exported));
  }
  // After the clients they may be limited to (`clients`), before the users linked to them.
  Object.assign(summary.upstream_providers, await restoreProviders(services.upstream, data.upstream_providers));

  // Recovery codes are HMACs under a key from GATEHOUSE_SECRET: another secret cannot check them.
  const codesCarried = data.recovery_code_key === services.factors.recoveryKeyId;
  // A passkey belongs to a host (WebAuthn's RP ID): browsers offer it nowhere else.
  const passkeysCarried = data.issuer !== undefined && URL.canParse(data.issuer) && new URL(data.issuer).hostname === new URL(issuer).hostname;
  const factorsOf = new Map(data.second_factors.map((one) => [one.userId, one]));
  const passkeysOf = new Map<string, typeof data.passkeys>();
  for (const passkey of data.passkeys) passkeysOf.set(passkey.userId, [...(passkeysOf.get(passkey.userId) ?? []), passkey]);
  const enrolled = async (id: string) => (await services.factors.status(id)).enrolled || (await services.passkeys.list(id)).length > 0;
  const syncEnrolment = enrolmentKeeper(services);
  for (const user of data.users) {
    const factors = factorsOf.get(user._id);
    const passkeys = passkeysOf.get(user._id) ?? [];
    // The flag the user will have: the factors held here, and those the file brings.
    const secondFactor = (await enrolled(user._id)) || (factors?.totp ?? null) !== null || (passkeysCarried && passkeys.length > 0);
    const { disabledBy, ...fields } = user;
    const stored: StoredUser = {
      ...fields,
      usernameKey: usernameKey(user.username),
      emailKey: user.email === null ? noEmailKey(user._id) : emailKey(user.email),
      // Who disabled the user means something only for a disabled one.
      ...(user.disabled && disabledBy !== undefined ? { disabledBy } : {}),
      secondFactor,
      passwordChangedAt: user.passwordChangedAt === null ? null : new Date(user.passwordChangedAt),
      lastLoginAt: user.lastLoginAt === null ? null : new Date(user.lastLoginAt),
      createdAt: new Date(user.createdAt),
      updatedAt: new Date(user.updatedAt),
    };
    count('users', await services.users.importOne(stored));
    if (factors !== undefined) await restoreFactors(services, factors, codesCarried, summary);
    for (const passkey of passkeys) {
      if (!passkeysCarried) summary.second_factors.passkeys.not_carried += 1;
      else {
        const outcome = await services.passkeys.restore({ ...passkey, createdAt: new Date(passkey.createdAt), lastUsedAt: passkey.lastUsedAt === null ? null : new Date(passkey.lastUsedAt) });
        summary.second_factors.passkeys[outcome === 'conflict' ? 'conflicts' : outcome] += 1;
      }
    }
    // A factor enrolled or removed while the document was written, or one the file could not bring: the flag follows the factors.
    if ((await enrolled(user._id)) !== secondFactor) await syncEnrolment(user._id);
  }

  const users = new Set(data.users.map((user) => user._id));
  const clients = new Set(data.clients.map((client) => client.clientId));
  for (const { userId, clientId, scopes, claims, resources, createdAt, updatedAt } of data.consents) {
    if (!users.has(userId) || !clients.has(clientId)) continue;
    await services.consents.add(userId, clientId, { scopes, claims, resources: mapAudienceKeys(resources, data.admin_audience, services.adminAudience) }, { createdAt: new Date(createdAt), updatedAt: new Date(updatedAt) });
    summary.consents += 1;
  }
  const providers = new Set(data.upstream_providers.map((provider) => provider.alias));
  Object.assign(summary.upstream_links, await restoreLinks(services.upstream, data.upstream_links, users, providers, conflict));
  for (const { updatedAt, ...context } of data.keycloak_realms) count('keycloak_realms', await services.keycloakRealms.restore({ ...context, updatedAt: new Date(updatedAt) }));
  // Last: the settings may name the roles and groups written above (mfa_required_roles).
  summary.settings = await settings.apply();
  summary.conflicts_total = conflictsTotal;
  return summary;
}

type ImportedFactors = z.infer<typeof importSchema>['second_factors'][number];

async function restoreFactors(services: GatehouseServices, factors: ImportedFactors, codesCarried: boolean, summary: ImportSummary): Promise<void> {
  const restored = await services.factors.restore({ ...factors, totp: factors.totp === null ? null : { ...factors.totp, confirmedAt: new Date(factors.totp.confirmedAt) } }, { recoveryCodes: codesCarried });
  if (restored.totp !== null) summary.second_factors.totp[restored.totp] += 1;
  if (restored.recoveryCodes > 0) summary.second_factors.recovery_codes.users += 1;
  else if (!codesCarried && factors.recoveryCodes.length > 0) summary.second_factors.recovery_codes.not_carried += 1;
}

/** A consent to the source's admin API is one to this deployment's. */
function mapAudienceKeys(resources: Readonly<Record<string, string[]>>, from: string, to: string): Record<string, string[]> {
  return Object.fromEntries(Object.entries(resources).map(([resource, scopes]) => [resource === from ? to : resource, scopes]));
}
