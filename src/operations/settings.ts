import type { AuditTrail } from '../observability/audit-trail.ts';
import { SIGN_IN_ENV, SIGN_IN_SETTING_NAMES, signInPatchSchema, type SignInSettingName } from '../settings/sign-in.ts';
import type { SignInSettingsStore } from '../settings/sign-in-store.ts';
import type { OperationContext } from './context.ts';

export { signInPatchSchema };

/** Where a setting's value in force comes from. */
type Source = 'environment' | 'stored' | 'default';

export interface SignInSettingView {
  readonly value: unknown;
  /** The value without a stored change: the environment variable's, or the built-in default. */
  readonly default: unknown;
  readonly source: Source;
  /** The environment variable that fixes this setting (read-only everywhere), or null. */
  readonly pinned_by: string | null;
  /** The environment variable that would pin it. */
  readonly env: string;
}

export interface SignInSettingsView {
  readonly settings: Readonly<Record<SignInSettingName, SignInSettingView>>;
  /** Registration, verification and reset send email: without SMTP they stay off whatever is set here. */
  readonly email_configured: boolean;
  readonly updated_at: string | null;
}

/** Runtime sign-in settings for operators (admin API, CLI, console); changes are audited as settings.updated. */
export function settingsOperations(store: SignInSettingsStore, audit: AuditTrail, emailConfigured: boolean) {
  async function show(): Promise<SignInSettingsView> {
    const state = await store.read();
    const settings = Object.fromEntries(
      SIGN_IN_SETTING_NAMES.map((name): [SignInSettingName, SignInSettingView] => {
        const pinnedBy = store.pinned[name] ?? null;
        const source: Source = pinnedBy !== null ? 'environment' : state.stored[name] !== undefined ? 'stored' : 'default';
        return [name, { value: state.settings[name], default: store.configured[name], source, pinned_by: pinnedBy, env: SIGN_IN_ENV[name] }];
      }),
    ) as Record<SignInSettingName, SignInSettingView>;
    return { settings, email_configured: emailConfigured, updated_at: state.updatedAt?.toISOString() ?? null };
  }

  return {
    show,
    async update(ctx: OperationContext, body: unknown): Promise<SignInSettingsView> {
      const patch = signInPatchSchema.parse(body);
      const change = await store.update(patch);
      if (change.changed.length > 0) {
        const pick = (values: object) => Object.fromEntries(change.changed.map((name) => [name, (values as Record<string, unknown>)[name]]));
        await audit.write({
          ...ctx,
          type: 'settings.updated',
          target: { type: 'settings', id: 'sign-in' },
          details: { fields: [...change.changed], before: pick(change.before), after: pick(change.after) },
        });
      }
      return show();
    },
  };
}
