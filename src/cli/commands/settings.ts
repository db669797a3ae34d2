import type { AllSettingsView, SettingsView } from '../../operations/settings.ts';
import { command } from '../command-line.ts';
import { CliError, type CliContext } from '../context.ts';
import { typed } from '../help.ts';
import { cliActor, readOperations, withOperations } from '../services.ts';

function printable(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '(empty)' : value.join(',');
  return String(value);
}

function print(ctx: CliContext, view: SettingsView & { email_configured?: boolean }): void {
  if (ctx.json) {
    ctx.out(JSON.stringify(view));
    return;
  }
  for (const [name, setting] of Object.entries(view.settings)) {
    const source = setting.pinned_by !== null ? `pinned by ${setting.pinned_by}` : setting.source;
    ctx.out(`${name}  ${printable(setting.value)}  (${source})`);
  }
  if (view.email_configured === false) ctx.out('note: GATEHOUSE_SMTP_URL is not set, so registration, email verification and password reset stay off');
}

/**
 * `name=value` → the admin API's PATCH field, typed like the setting's current value (true/false,
 * a number, a comma-separated list, text); `default` returns a setting to its configured value.
 */
function assignment(argument: string, shown: AllSettingsView): [string, unknown] {
  const at = argument.indexOf('=');
  if (at <= 0) throw new CliError(`settings set: expected NAME=VALUE, got ${typed(argument)}`, 2);
  const name = argument.slice(0, at).trim().replaceAll('-', '_');
  const raw = argument.slice(at + 1).trim();
  // Looked up as a name, not a property every object has (`constructor`, `__proto__`).
  const setting = Object.hasOwn(shown.settings, name) ? shown.settings[name] : undefined;
  if (setting === undefined) throw new CliError(`settings set: unknown setting ${typed(argument.slice(0, at))} (one of ${Object.keys(shown.settings).join(', ')})`, 2);
  if (raw === 'default') return [name, null];
  const current = setting.value;
  if (typeof current === 'boolean') {
    if (/^(true|on|yes|1)$/i.test(raw)) return [name, true];
    if (/^(false|off|no|0)$/i.test(raw)) return [name, false];
    throw new CliError(`settings set: ${name} must be true or false`, 2);
  }
  if (typeof current === 'number') return [name, /^\d+$/.test(raw) ? Number(raw) : raw];
  if (Array.isArray(current)) return [name, raw.split(',').map((item) => item.trim()).filter((item) => item !== '')];
  return [name, raw];
}

/** Prints the runtime settings in force (one group, or all), with where each comes from. */
export const settingsGet = command({ options: {}, arguments: [{ name: 'GROUP', optional: true }] }, async (ctx, { positionals }) => {
  const group = positionals[0];
  print(
    ctx,
    await readOperations(ctx, (ops) => {
      if (group === undefined) return ops.settings.showAll();
      if (!ops.settings.groups().includes(group)) throw new CliError(`settings get: unknown group ${typed(group)} (one of ${ops.settings.groups().join(', ')})`, 2);
      return ops.settings.showGroup(group);
    }),
  );
});

/**
 * Changes settings as the admin API's PATCH does (validated, audited as settings.updated per
 * group); running servers apply them with their next request (over Redis; without it within a second).
 */
export const settingsSet = command({ options: {}, arguments: ['NAME=VALUE...'] }, async (ctx, { positionals }) => {
  if (positionals.length === 0) throw new CliError('settings set: give at least one NAME=VALUE (see gatehouse settings --help)', 2);
  print(
    ctx,
    await withOperations(ctx, async (ops) => {
      const shown = await ops.settings.showAll();
      const patch = Object.fromEntries(positionals.map((argument) => assignment(argument, shown)));
      return ops.settings.updateAll(cliActor(), patch);
    }),
  );
});
