import { invalid, InvalidRequestError, NotFoundError } from '../errors/gatehouse-error.ts';
import type { AuditTrail } from '../observability/audit-trail.ts';
import { settingNames, type SettingsPatch } from '../settings/group.ts';
import type { RuntimeSettings } from '../settings/runtime.ts';
import { signInPatchSchema, type SignInSettingName } from '../settings/sign-in.ts';
import type { SettingsStore } from '../settings/store.ts';
import type { OperationContext } from './context.ts';
import type { SettingsChecks } from './settings-checks.ts';

export { signInPatchSchema };

/** Where a setting's value in force comes from. */
type Source = 'environment' | 'stored' | 'default';

export interface SettingView {
  readonly value: unknown;
  /** The value without a stored change: the environment variable's, or the built-in default. */
  readonly default: unknown;
  readonly source: Source;
  /** The environment variable that fixes this setting (read-only everywhere), or null. */
  readonly pinned_by: string | null;
  /** The environment variable that would pin it. */
  readonly env: string;
}

export interface SettingsView<Name extends string = string> {
  readonly settings: Readonly<Record<Name, SettingView>>;
  readonly updated_at: string | null;
}

export interface SignInSettingsView extends SettingsView<SignInSettingName> {
  /** Registration, verification and reset send email: without SMTP they stay off whatever is set here. */
  readonly email_configured: boolean;
}

/** Every group's settings in one list (the CLI): names are unique across groups. */
export interface AllSettingsView extends SettingsView {
  readonly email_configured: boolean;
}

type AnyStore = SettingsStore<object>;

/**
 * Runtime settings for operators (admin API, CLI, console), one group per resource
 * (/settings/sign-in, /settings/password-policy, ...); each change is audited as
 * settings.updated with the group as its target and the values before and after.
 */
export function settingsOperations(runtime: RuntimeSettings, audit: AuditTrail, emailConfigured: boolean, checks: SettingsChecks = {}) {
  const stores = new Map(runtime.groups.map((store) => [store.group.id, store]));

  /** A change refused before anything is written: a pinned setting (409), a reference to nothing (400). */
  async function assertAcceptable(store: AnyStore, patch: SettingsPatch<object>): Promise<void> {
    store.assertWritable(patch);
    const problems = (await checks[store.group.id]?.(patch as Record<string, unknown>)) ?? [];
    if (problems.length > 0) throw new InvalidRequestError(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
  }

  async function view(store: AnyStore): Promise<SettingsView> {
    const state = await store.read();
    const pinned = store.pinned as Record<string, string | undefined>;
    const settings = Object.fromEntries(
      settingNames(store.group).map((name): [string, SettingView] => {
        const pinnedBy = pinned[name] ?? null;
        const source: Source = pinnedBy !== null ? 'environment' : (state.stored as Record<string, unknown>)[name] !== undefined ? 'stored' : 'default';
        return [name, { value: (state.settings as Record<string, unknown>)[name], default: (store.configured as Record<string, unknown>)[name], source, pinned_by: pinnedBy, env: store.group.env[name] as string }];
      }),
    );
    return { settings, updated_at: state.updatedAt?.toISOString() ?? null };
  }

  async function show(id: string): Promise<SettingsView> {
    const store = storeOf(id);
    const shown = await view(store);
    return id === 'sign-in' ? { ...shown, email_configured: emailConfigured } as SignInSettingsView : shown;
  }

  function storeOf(id: string): AnyStore {
    const store = stores.get(id);
    if (store === undefined) throw new NotFoundError('settings_group_not_found', { id });
    return store;
  }

  async function apply(ctx: OperationContext, store: AnyStore, patch: SettingsPatch<object>): Promise<void> {
    // Checked again under the group's lock as it is written: a role or group deleted since assertAcceptable is refused, not written back.
    const check = checks[store.group.id];
    const change = await store.update(patch, check === undefined ? undefined : (written) => check(written as Record<string, unknown>));
    if (change.changed.length === 0) return;
    const pick = (values: object) => Object.fromEntries(change.changed.map((name) => [name, (values as Record<string, unknown>)[name]]));
    await audit.write({
      ...ctx,
      type: 'settings.updated',
      target: { type: 'settings', id: store.group.id },
      details: { fields: [...change.changed], before: pick(change.before), after: pick(change.after) },
    });
  }

  return {
    /** The sign-in & self-service group (kept as the default for older callers). */
    show: () => show('sign-in') as Promise<SignInSettingsView>,
    update: (ctx: OperationContext, body: unknown) => updateGroup(ctx, 'sign-in', body) as Promise<SignInSettingsView>,
    /** The groups' ids, in the order operators see them. */
    groups: () => [...stores.keys()],
    showGroup: show,
    updateGroup,
    showAll,
    /**
     * A change across groups (the CLI's `settings set`): every part is validated and checked
     * against the pins before any group is written; each group is then written and audited.
     */
    async updateAll(ctx: OperationContext, body: Record<string, unknown>): Promise<AllSettingsView> {
      const parts = new Map<AnyStore, Record<string, unknown>>();
      for (const [name, value] of Object.entries(body)) {
        const store = [...stores.values()].find((candidate) => (settingNames(candidate.group) as string[]).includes(name));
        if (store === undefined) throw invalid(name, 'unknown_field');
        parts.set(store, { ...parts.get(store), [name]: value });
      }
      const patches = [...parts].map(([store, part]) => [store, store.group.patchSchema.parse(part)] as const);
      for (const [store, patch] of patches) await assertAcceptable(store, patch);
      for (const [store, patch] of patches) await apply(ctx, store, patch);
      return showAll();
    },
  };

  /** Every setting of every group, names unique across groups (the CLI's `settings get`). */
  async function showAll(): Promise<AllSettingsView> {
    const views = await Promise.all([...stores.values()].map(view));
    const updated = views.map((one) => one.updated_at).filter((at): at is string => at !== null).sort();
    return { settings: Object.assign({}, ...views.map((one) => one.settings)) as Record<string, SettingView>, email_configured: emailConfigured, updated_at: updated.at(-1) ?? null };
  }

  async function updateGroup(ctx: OperationContext, id: string, body: unknown): Promise<SettingsView> {
    const store = storeOf(id);
    const patch = store.group.patchSchema.parse(body);
    await assertAcceptable(store, patch);
    await apply(ctx, store, patch);
    return show(id);
  }
}
