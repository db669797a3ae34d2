import type { Config } from '../config/load.ts';
import type { SettingsStore } from '../settings/store.ts';
import type { KeycloakReportBuilder } from './import-report.ts';
import type { PlannedRealmSettings, PlannedSetting } from './map-realm-settings.ts';

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
 * the variable to set, when the realm's differs from the one Gatehouse runs with.
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
    if (running === one.value) continue;
    const now = running === undefined ? '' : ` (Gatehouse runs with ${running})`;
    report.addUnmapped({ kind: 'realm setting', name: `${one.keycloak} ${one.value}`, reason: `environment only in Gatehouse: set ${one.variable}=${one.value}${now}${one.note === undefined ? '' : `; ${one.note}`}` });
  }
  const { brandName } = planned;
  if (brandName !== undefined && brandName !== target.brandName) {
    const now = target.brandName === undefined ? '' : ` (Gatehouse runs with ${JSON.stringify(target.brandName)})`;
    report.addUnmapped({ kind: 'realm setting', name: `displayName ${brandName}`, reason: `environment only in Gatehouse: set GATEHOUSE_BRAND_NAME=${shellWord(brandName)}${now}; Gatehouse's pages show it where Keycloak's sign-in pages showed the realm's name` });
  }
}
