import { parseArgs } from 'node:util';
import type { SignInSettingsView } from '../../operations/settings.ts';
import { SIGN_IN_SETTING_NAMES, type SignInSettingName } from '../../settings/sign-in.ts';
import { CliError, type CliContext } from '../context.ts';
import { cliActor, withOperations } from '../services.ts';

const BOOLEANS = new Set<SignInSettingName>(['self_registration', 'password_reset']);
const NUMBERS = new Set<SignInSettingName>(['email_verification_ttl', 'password_reset_ttl']);

function printable(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '(any)' : value.join(',');
  return String(value);
}

function print(ctx: CliContext, view: SignInSettingsView): void {
  if (ctx.json) {
    ctx.out(JSON.stringify(view));
    return;
  }
  for (const [name, setting] of Object.entries(view.settings)) {
    const source = setting.pinned_by !== null ? `pinned by ${setting.pinned_by}` : setting.source;
    ctx.out(`${name}  ${printable(setting.value)}  (${source})`);
  }
  if (!view.email_configured) ctx.out('note: GATEHOUSE_SMTP_URL is not set, so registration, email verification and password reset stay off');
}

/** `name=value` → the admin API's PATCH field; `default` returns a setting to its configured value. */
function assignment(argument: string): [SignInSettingName, unknown] {
  const at = argument.indexOf('=');
  if (at <= 0) throw new CliError(`settings set: expected NAME=VALUE, got '${argument}'`, 2);
  const name = argument.slice(0, at).trim().replaceAll('-', '_') as SignInSettingName;
  const raw = argument.slice(at + 1).trim();
  if (!SIGN_IN_SETTING_NAMES.includes(name)) throw new CliError(`settings set: unknown setting '${argument.slice(0, at)}' (one of ${SIGN_IN_SETTING_NAMES.join(', ')})`, 2);
  if (raw === 'default') return [name, null];
  if (BOOLEANS.has(name)) {
    if (/^(true|on|yes|1)$/i.test(raw)) return [name, true];
    if (/^(false|off|no|0)$/i.test(raw)) return [name, false];
    throw new CliError(`settings set: ${name} must be true or false`, 2);
  }
  if (NUMBERS.has(name)) return [name, /^\d+$/.test(raw) ? Number(raw) : raw];
  if (name === 'self_registration_domains') return [name, raw.split(',').map((domain) => domain.trim()).filter((domain) => domain !== '')];
  return [name, raw];
}

/** Prints the sign-in and self-service settings in force, with where each comes from. */
export async function settingsGet(ctx: CliContext, args: string[]): Promise<void> {
  parseArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: false });
  print(ctx, await withOperations(ctx, (ops) => ops.settings.show()));
}

/**
 * Changes settings as the admin API's PATCH does (validated, audited as settings.updated); running
 * servers apply them with their next request (over Redis; without it within a second).
 */
export async function settingsSet(ctx: CliContext, args: string[]): Promise<void> {
  const { positionals } = parseArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: true });
  if (positionals.length === 0) throw new CliError('settings set: give at least one NAME=VALUE (see gatehouse settings --help)', 2);
  const patch = Object.fromEntries(positionals.map(assignment));
  print(ctx, await withOperations(ctx, (ops) => ops.settings.update(cliActor(), patch)));
}
