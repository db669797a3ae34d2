import { z } from 'zod';
import { InvalidRequestError, type ErrorDetail } from '../errors/gatehouse-error.ts';
import type { LabelDirectory } from '../roles/directory.ts';
import { bruteForceGroup } from '../settings/brute-force.ts';
import { effectiveOf, type SettingsGroup, type SettingsPatch, type StoredValues } from '../settings/group.ts';
import { mfaGroup } from '../settings/mfa.ts';
import { otpGroup } from '../settings/otp.ts';
import { passwordPolicyGroup } from '../settings/password-policy.ts';
import type { RuntimeSettings } from '../settings/runtime.ts';
import { signInGroup } from '../settings/sign-in.ts';
import type { SettingsStore } from '../settings/store.ts';

/**
 * The `settings` section of an export file: the runtime settings operators changed (admin API
 * `/settings/<group>`, `gatehouse settings set`, the console, a Keycloak import), by group — what
 * each group's store holds, not what the source's environment gave (the target's own
 * configuration stays its own). `{"sign-in": {"default_roles": ["staff"]}, "mfa": {…}, …}`.
 */
const GROUPS: ReadonlyArray<SettingsGroup<object>> = [signInGroup, passwordPolicyGroup, bruteForceGroup, mfaGroup, otpGroup] as unknown as ReadonlyArray<SettingsGroup<object>>;

export async function exportedSettings(runtime: Pick<RuntimeSettings, 'groups'>): Promise<Record<string, object>> {
  const entries = await Promise.all(runtime.groups.map(async (store) => [store.group.id, { ...(await store.read()).stored }] as const));
  return Object.fromEntries(entries);
}

/** Each group checked by the admin API's own schema for a change of it (unknown names refused, naming them: `settings.mfa.mfa_required_role`). */
export const settingsSection = z.strictObject(Object.fromEntries(GROUPS.map((group) => [group.id, (group.patchSchema as z.ZodType<SettingsPatch<object>>).optional()])));

export type ImportedSettings = z.output<typeof settingsSection>;

/** How many settings a file's section sets (the counts of export and dry run). */
export function settingsCount(settings: ImportedSettings): number {
  return Object.values(settings).reduce((sum, values) => sum + Object.keys(values ?? {}).length, 0);
}

export interface SettingsOutcome {
  /** `group.setting` of each setting whose value in force the import changed. */
  readonly changed: string[];
  /** Settings the file sets that this deployment's environment pins: left as the environment says. */
  readonly pinned: Array<{ setting: string; variable: string }>;
}

type Store = SettingsStore<object>;
type Labels = Pick<LabelDirectory, 'kind' | 'list'>;

/**
 * The checks of a settings change against what else is stored, by group id, over the role and
 * group directories given (src/operations/settings-checks.ts, passed in by the operation).
 */
export type SettingsChecksOver = (labels: { readonly roles: Labels; readonly groups: Labels }) => Readonly<Record<string, (patch: Readonly<Record<string, unknown>>) => Promise<ErrorDetail[]>>>;

/**
 * Before anything is written: what each group will be set to. The file's settings go over the
 * ones stored here (those the file does not name stay as they are); a setting pinned here by its
 * environment variable is left out and reported; the values then in force must go together (the
 * group's rules) and name roles and groups that exist here or come with the file — else a 400
 * naming `settings.<group>.<setting>`, and nothing is imported.
 */
export async function planSettings(
  runtime: Pick<RuntimeSettings, 'groups'>,
  settings: ImportedSettings,
  settingsChecks: SettingsChecksOver,
  labels: { roles: Labels; groups: Labels },
  fileLabels: { roles: readonly string[]; groups: readonly string[] },
) {
  const pinned: SettingsOutcome['pinned'] = [];
  const plan: Array<{ store: Store; patch: SettingsPatch<object> }> = [];
  // The roles and groups here and those the file brings (written before the settings are).
  const withFile = (directory: Labels, names: readonly string[]) => ({
    kind: directory.kind,
    list: async () => [...(await directory.list()), ...names.map((name) => ({ name }))] as Awaited<ReturnType<LabelDirectory['list']>>,
  });
  const checks = settingsChecks({ roles: withFile(labels.roles, fileLabels.roles), groups: withFile(labels.groups, fileLabels.groups) });
  // At the write the file's roles and groups are stored: checked again against what is, under the group's lock.
  const atWrite = settingsChecks(labels);
  const problems: ErrorDetail[] = [];
  for (const store of runtime.groups) {
    const values = settings[store.group.id];
    if (values === undefined) continue;
    const patch: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) continue;
      const variable = (store.pinned as Record<string, string | undefined>)[name];
      if (variable !== undefined) pinned.push({ setting: `${store.group.id}.${name}`, variable });
      else patch[name] = value;
    }
    if (Object.keys(patch).length === 0) continue;
    const at = (path: string) => `settings.${store.group.id}.${path}`;
    for (const problem of (await checks[store.group.id]?.(patch)) ?? []) problems.push({ ...problem, path: at(problem.path) });
    const stored: Record<string, unknown> = { ...(await store.read()).stored };
    for (const [name, value] of Object.entries(patch)) {
      if (value === null) delete stored[name];
      else stored[name] = value;
    }
    const after = effectiveOf(store.group, store.configured, stored as StoredValues<object>, store.pinned);
    for (const problem of store.group.problems?.(after) ?? []) problems.push({ ...problem, path: at(problem.path) });
    plan.push({ store, patch });
  }
  if (problems.length > 0) throw new InvalidRequestError(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
  return {
    pinned,
    /** Writes the plan (the import's last step). */
    async apply(): Promise<SettingsOutcome> {
      const changed: string[] = [];
      for (const { store, patch } of plan) {
        // A role or group deleted since the check above is refused (400 naming the setting), not written back (probe25).
        const check = atWrite[store.group.id];
        const at = (path: string) => `settings.${store.group.id}.${path}`;
        const change = await store.update(patch, check === undefined ? undefined : async (written) => (await check(written as Record<string, unknown>)).map((problem) => ({ ...problem, path: at(problem.path) })));
        changed.push(...change.changed.map((name) => `${store.group.id}.${name}`));
      }
      return { changed, pinned };
    },
  };
}
