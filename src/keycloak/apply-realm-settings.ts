import type { Config } from '../config/load.ts';
import type { SettingsStore } from '../settings/store.ts';
import type { KeycloakReportBuilder } from './import-report.ts';
import type { UnmappedItem } from './export-json.ts';
import { REALM_USERS_NOTE, type PlannedRealmSettings, type PlannedSetting } from './map-realm-settings.ts';

/** What applying a realm's settings needs of the settings operations (src/operations/settings.ts). */
export interface RealmSettingsTarget {
  /** The groups' stores (read, pins, configured values, the group's rules). */
  readonly stores: ReadonlyArray<SettingsStore<object>>;
  /** The admin API's own change of one group, by the importer: validated, checked against the pins (409), audited as settings.updated. */
  update(group: string, patch: Record<string, unknown>): Promise<unknown>;
  /** The lifetimes Gatehouse runs with (its environment): a realm's that differ are reported with the variable to set. */
  readonly lifetimes?: Pick<Config['lifetimes'], 'accessToken' | 'authorizationCode' | 'session' | 'refreshToken' | 'deviceCode' | 'interaction'> | undefined;
  /** The name Gatehouse's pages show (GATEHOUSE_BRAND_NAME): a realm's display name that differs is reported with the variable to set. */
  readonly brandName?: string | undefined;
  /** Whether SMTP is configured: registration, verification and reset need it. */
  readonly emailConfigured: boolean;
  /** The issuer Gatehouse runs with: the realm's apps' URLs and issuer are checked against it (realmLayoutNotes). */
  readonly issuer?: string | undefined;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** A value as one word of a shell's assignment: as it is when plain, else single-quoted. */
const shellWord = (value: string): string => (/^[\w.,:@%+/-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`);

/** Settings of the sign-in group that do nothing without SMTP. */
const NEEDS_EMAIL = new Set(['self_registration', 'password_reset', 'require_verified_email']);

/**
 * Compares a realm's planned settings (src/keycloak/map-realm-settings.ts) with the settings in
 * force and, unless `dryRun`, changes those that differ through the settings operations, one
 * change per group — the admin API's own path, so its validation, the pins and the audit hold.
 * A setting an environment variable pins is reported (`settings.pinned`), never overwritten; a
 * group whose planned values do not go together (a maximum below a minimum) is left as it is and
 * its settings reported under `unmapped`. Lifetimes the environment alone sets are reported with
 * the variable to set, when the realm's differs from the one Gatehouse runs with — and, when the
 * realm's is outside what Gatehouse takes, also when Gatehouse runs with the nearest it takes.
 */
export async function applyRealmSettings(target: RealmSettingsTarget, planned: PlannedRealmSettings, dryRun: boolean, report: KeycloakReportBuilder): Promise<void> {
  const byGroup = new Map<string, PlannedSetting[]>();
  for (const one of planned.settings) byGroup.set(one.group, [...(byGroup.get(one.group) ?? []), one]);
  for (const [id, settings] of byGroup) {
    const store = target.stores.find((candidate) => candidate.group.id === id);
    if (store === undefined) continue;
    const inForce = (await store.read()).settings as Record<string, unknown>;
    const configured = store.configured as Record<string, unknown>;
    const pinned = store.pinned as Record<string, string | undefined>;
    const patch: Record<string, unknown> = {};
    const changes: Array<PlannedSetting & { readonly from: unknown; readonly to: unknown }> = [];
    for (const one of settings) {
      const to = one.value === null ? configured[one.setting] : one.value;
      const from = inForce[one.setting];
      if (same(from, to)) continue;
      const variable = pinned[one.setting];
      if (variable !== undefined) {
        report.addSetting('pinned', { group: id, setting: one.setting, variable, value: from, keycloakValue: to, keycloak: one.keycloak });
        continue;
      }
      patch[one.setting] = one.value;
      changes.push({ ...one, from, to });
    }
    if (changes.length === 0) continue;
    const problems = store.group.problems?.({ ...inForce, ...Object.fromEntries(changes.map((change) => [change.setting, change.to])) }) ?? [];
    if (problems.length > 0) {
      const why = problems.map((problem) => `${problem.path} ${problem.message}`).join('; ');
      for (const change of changes) report.addUnmapped({ kind: 'realm setting', name: change.keycloak, reason: `not applied: with the realm's other ${id} settings, ${why}; ${change.setting} left at ${JSON.stringify(change.from)}` });
      continue;
    }
    if (!dryRun) await target.update(id, patch);
    for (const change of changes) {
      const note = NEEDS_EMAIL.has(change.setting) && !target.emailConfigured && change.to !== false && change.to !== 'off' ? 'needs SMTP (GATEHOUSE_SMTP_URL), not configured: off until it is' : undefined;
      report.addSetting('changed', { group: id, setting: change.setting, from: change.from, to: change.to, keycloak: change.keycloak, ...(note === undefined ? {} : { note }) });
    }
  }
  for (const one of planned.environment) {
    const running = target.lifetimes?.[one.lifetime];
    if (running === one.value) {
      // The nearest value Gatehouse takes is in force already, but the realm's own (below it) is not: said, with nothing to set.
      if (one.keycloakValue !== undefined) report.addUnmapped({ kind: 'realm setting', name: `${one.keycloak} ${one.keycloakValue}`, reason: `environment only in Gatehouse: Gatehouse runs with ${one.variable}=${running} already${one.note === undefined ? '' : `; ${one.note}`}` });
      continue;
    }
    const now = running === undefined ? '' : ` (Gatehouse runs with ${running})`;
    report.addUnmapped({ kind: 'realm setting', name: `${one.keycloak} ${one.keycloakValue ?? one.value}`, reason: `environment only in Gatehouse: set ${one.variable}=${one.value}${now}${one.note === undefined ? '' : `; ${one.note}`}` });
  }
  const { brandName } = planned;
  if (brandName !== undefined && brandName !== target.brandName) {
    const now = target.brandName === undefined ? '' : ` (Gatehouse runs with ${JSON.stringify(target.brandName)})`;
    report.addUnmapped({ kind: 'realm setting', name: `displayName ${brandName}`, reason: `environment only in Gatehouse: set GATEHOUSE_BRAND_NAME=${shellWord(brandName)}${now}; Gatehouse's pages show it where Keycloak's sign-in pages showed the realm's name` });
  }
}

/** A realm name GATEHOUSE_KEYCLOAK_REALM takes (src/config/schema.ts). */
const REALM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Where the realm's apps find it: Keycloak's URLs (`<base>/realms/<realm>/protocol/openid-connect/…`)
 * and the issuer its tokens carry, which apps check. Gatehouse serves that layout with
 * GATEHOUSE_KEYCLOAK_REALM=<realm> and GATEHOUSE_ISSUER=<base>: a running issuer that is not
 * `…/realms/<realm>` — or, when the realm had a Frontend URL, not `<frontendUrl>/realms/<realm>` —
 * is noted with the variables to set (kind `realm`: whatever happens to the realm's settings, the
 * imported apps need it). `issuer`: the issuer Gatehouse runs with; undefined: not known, no note.
 */
export function realmLayoutNotes(realm: string, frontendUrl: string | undefined, issuer: string | undefined): UnmappedItem[] {
  if (issuer === undefined) return [];
  const suffix = `/realms/${realm}`;
  if (!REALM_NAME.test(realm)) {
    return [{ kind: REALM_USERS_NOTE, name: `realm ${realm}`, reason: `Gatehouse serves Keycloak's URL layout for a realm name of letters, digits, ".", "_" and "-" (GATEHOUSE_KEYCLOAK_REALM): the imported apps must be given Gatehouse's URLs (issuer ${issuer})` }];
  }
  const wanted = frontendUrl === undefined ? undefined : `${frontendUrl}${suffix}`;
  if (wanted !== undefined && wanted !== issuer) {
    return [{ kind: REALM_USERS_NOTE, name: `frontendUrl ${frontendUrl}`, reason: `the realm's apps check the issuer ${wanted}: set GATEHOUSE_ISSUER=${frontendUrl} and GATEHOUSE_KEYCLOAK_REALM=${realm} (Gatehouse runs with issuer ${issuer}), and point the realm's host name at Gatehouse` }];
  }
  if (!issuer.endsWith(suffix)) {
    return [{ kind: REALM_USERS_NOTE, name: `realm ${realm}`, reason: `the realm's apps call Keycloak's URLs (…${suffix}/protocol/openid-connect/…) and check an issuer ending in ${suffix}: set GATEHOUSE_KEYCLOAK_REALM=${realm} (Gatehouse runs with issuer ${issuer}, its own URL layout), with GATEHOUSE_ISSUER the URL Keycloak had before /realms` }];
  }
  return [];
}
