import type { User } from '../../accounts/accounts.ts';
import type { Operations } from '../../operations/index.ts';
import { showUser, showUserPage } from '../../operations/users.ts';
import { command, type ParsedLine } from '../command-line.ts';
import { CliError, type CliContext } from '../context.ts';
import type { FlagsOf } from '../flag-errors.ts';
import { cliActor, readOperations, readStdinSecret, withOperations } from '../services.ts';

/** `--given-name` etc.: each sets the standard claim of the same name (empty clears it on update). */
const PROFILE_OPTIONS = {
  'given-name': 'given_name',
  'family-name': 'family_name',
  'middle-name': 'middle_name',
  nickname: 'nickname',
  profile: 'profile',
  picture: 'picture',
  website: 'website',
  gender: 'gender',
  birthdate: 'birthdate',
  zoneinfo: 'zoneinfo',
  locale: 'locale',
  'phone-number': 'phone_number',
} as const;

/** `--address-locality` etc.: together they make the address, replacing a stored one. */
const ADDRESS_OPTIONS = {
  'address-formatted': 'formatted',
  'address-street': 'street_address',
  'address-locality': 'locality',
  'address-region': 'region',
  'address-postal-code': 'postal_code',
  'address-country': 'country',
} as const;

const stringOptions = <T extends Record<string, string>>(table: T) =>
  Object.fromEntries(Object.keys(table).map((option) => [option, { type: 'string' }])) as { [K in keyof T]: { type: 'string' } };

/** The profile: what `users create` and `users update` set (booleans also as --no-…). */
const PROFILE = {
  email: { type: 'string' },
  name: { type: 'string' },
  ...stringOptions(PROFILE_OPTIONS),
  ...stringOptions(ADDRESS_OPTIONS),
  'email-verified': { type: 'boolean' },
  'phone-number-verified': { type: 'boolean' },
} as const;

/** `--require-action ACTION`, repeatable: what the user must do at their next sign-in (src/accounts/required-actions.ts); on update it replaces them. */
const REQUIRED_ACTION_OPTION = { 'require-action': { type: 'string', multiple: true } } as const;
const CREATE_OPTIONS = { username: { type: 'string' }, ...PROFILE, attribute: { type: 'string', multiple: true }, role: { type: 'string', multiple: true }, group: { type: 'string', multiple: true }, 'password-stdin': { type: 'boolean' }, invite: { type: 'boolean' }, ...REQUIRED_ACTION_OPTION } as const;
const UPDATE_OPTIONS = { ...PROFILE, attribute: { type: 'string', multiple: true }, 'clear-address': { type: 'boolean' }, ...REQUIRED_ACTION_OPTION, 'clear-required-actions': { type: 'boolean' } } as const;
const INVITE_OPTIONS = { 'client-id': { type: 'string' }, 'redirect-uri': { type: 'string' }, lifetime: { type: 'string' }, revoke: { type: 'boolean' }, show: { type: 'boolean' } } as const;
// One --role, one --group: the search filters by one of each (the usage says so), so neither repeats.
const LIST_OPTIONS = { query: { type: 'string' }, role: { type: 'string' }, group: { type: 'string' }, limit: { type: 'string' }, offset: { type: 'string' } } as const;
/** The user a command is about: its id, username or email. */
const USER = ['USER'];

/** The body's fields said as flags, for errors (src/cli/flag-errors.ts). */
export const USER_FLAGS: FlagsOf = {
  username: '--username',
  password: '--password-stdin',
  email: '--email',
  name: '--name',
  ...Object.fromEntries(Object.entries(PROFILE_OPTIONS).map(([option, field]) => [field, `--${option}`])),
  ...Object.fromEntries(Object.entries(ADDRESS_OPTIONS).map(([option, field]) => [`address.${field}`, `--${option}`])),
  address: '--clear-address',
  email_verified: '--email-verified|--no-email-verified',
  phone_number_verified: '--phone-number-verified|--no-phone-number-verified',
  attributes: '--attribute names',
  required_actions: '--require-action',
  temporary: '--temporary',
  roles: '--role',
  groups: '--group',
  role: '--role',
  group: '--group',
  q: '--query',
  invite: '--invite',
  client_id: '--client-id',
  redirect_uri: '--redirect-uri',
  lifetime_seconds: '--lifetime',
  limit: '--limit',
  offset: '--offset',
};

type Values = ParsedLine<typeof PROFILE & { 'clear-address': { type: 'boolean' } }>['values'];

/**
 * The profile fields the options name, as the user operations take them. On update an empty
 * value clears the field; on create it is simply not set.
 */
function profileBody(values: Values, forUpdate: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const given = values as Record<string, unknown>;
  for (const [option, field] of Object.entries({ email: 'email', name: 'name', ...PROFILE_OPTIONS })) {
    const value = given[option];
    if (typeof value !== 'string') continue;
    if (value.trim() !== '') body[field] = value;
    else if (forUpdate) body[field] = null;
  }
  const address: Record<string, unknown> = {};
  for (const [option, field] of Object.entries(ADDRESS_OPTIONS)) {
    const value = given[option];
    if (typeof value === 'string' && value.trim() !== '') address[field] = value;
  }
  if (values['clear-address'] === true) body.address = null;
  else if (Object.keys(address).length > 0) body.address = address;
  if (values['email-verified'] !== undefined) body.email_verified = values['email-verified'];
  if (values['phone-number-verified'] !== undefined) body.phone_number_verified = values['phone-number-verified'];
  return body;
}

/**
 * `--attribute NAME=VALUE`, repeatable: a name given once is a text, given again a list (in the
 * order given); `NAME[]=VALUE` makes a list of one. On update `NAME=` removes the attribute.
 */
export function attributesBody(given: readonly string[] | undefined, forUpdate: boolean): Record<string, string | string[] | null> | undefined {
  if (given === undefined || given.length === 0) return undefined;
  const lists = new Map<string, string[]>();
  const removed = new Set<string>();
  const asList = new Set<string>();
  for (const item of given) {
    const equals = item.indexOf('=');
    if (equals <= 0) throw new CliError(`--attribute ${JSON.stringify(item)}: expected NAME=VALUE (NAME= removes the attribute on update)`, 2);
    let name = item.slice(0, equals);
    const value = item.slice(equals + 1);
    if (name.endsWith('[]')) {
      name = name.slice(0, -2);
      asList.add(name);
    }
    if (value === '') {
      if (!forUpdate) throw new CliError(`--attribute ${name}=: a new user's attribute needs a value`, 2);
      removed.add(name);
      continue;
    }
    lists.set(name, [...(lists.get(name) ?? []), value]);
  }
  const body: Record<string, string | string[] | null> = {};
  // Defined, not assigned: `__proto__` stays a member the API refuses by name instead of becoming the body's prototype.
  const set = (name: string, value: string | string[] | null) => Object.defineProperty(body, name, { value, enumerable: true, writable: true, configurable: true });
  for (const name of removed) if (!lists.has(name)) set(name, null);
  for (const [name, values] of lists) set(name, values.length === 1 && !asList.has(name) ? values[0]! : values);
  return body;
}

/** A user named by id or by username/email (operators rarely know the id). */
async function resolve(ops: Operations, positionals: string[]): Promise<User> {
  const ref = positionals[0];
  if (ref === undefined) throw new CliError('the user (id, username or email) is required', 2);
  return ops.users.resolve(ref);
}

function withAttributes(given: readonly string[] | undefined, forUpdate: boolean): { attributes?: Record<string, string | string[] | null> } {
  const attributes = attributesBody(given, forUpdate);
  return attributes === undefined ? {} : { attributes };
}

/** The required actions the line names: `--clear-required-actions` (update) removes them all. */
function requiredActionsBody(values: { 'require-action'?: string[] | undefined; 'clear-required-actions'?: boolean | undefined }): { required_actions?: string[] } {
  if (values['clear-required-actions'] === true) {
    if (values['require-action'] !== undefined) throw new CliError('--clear-required-actions and --require-action: give one (--require-action alone replaces them)', 2);
    return { required_actions: [] };
  }
  return values['require-action'] === undefined ? {} : { required_actions: values['require-action'] };
}

export const usersCreate = command({ options: CREATE_OPTIONS, allowNegative: true }, async (ctx, { values }) => {
  if (values.username === undefined) throw new CliError('--username is required', 2);
  const invite = values.invite === true;
  if (invite && values['password-stdin'] === true) throw new CliError('--invite and --password-stdin exclude each other: an invited user chooses their own password', 2);
  if (!invite && values['password-stdin'] !== true) throw new CliError('--password-stdin is required: passwords are read from standard input, never from arguments (or --invite: the user sets their own)', 2);
  const password = invite ? undefined : await readStdinSecret(ctx, '--password-stdin', { prompt: 'Password: ' });
  const user = await withOperations(ctx, (ops) =>
    ops.users.create(cliActor(), {
      username: values.username,
      ...(password === undefined ? {} : { password }),
      ...profileBody(values, false),
      ...withAttributes(values.attribute, false),
      ...requiredActionsBody(values),
      roles: values.role ?? [],
      groups: values.group ?? [],
      ...(invite ? { invite: true } : {}),
    }),
  );
  if (ctx.json) ctx.out(JSON.stringify({ id: user.id, username: user.username, ...(invite ? { invited: true } : {}) }));
  else ctx.out(`created user ${user.username} (${user.id})${invite ? `; invitation sent to ${user.email ?? ''}` : ''}`);
});

export const usersUpdate = command({ options: UPDATE_OPTIONS, arguments: USER, allowNegative: true }, async (ctx, { values, positionals }) => {
  const body = { ...profileBody(values, true), ...withAttributes(values.attribute, true), ...requiredActionsBody(values) };
  if (Object.keys(body).length === 0) throw new CliError('nothing to change: pass at least one profile option (see gatehouse users update --help)', 2);
  const user = await withOperations(ctx, async (ops) => {
    const found = await resolve(ops, positionals);
    return ops.users.update(cliActor(), found.id, body);
  });
  ctx.out(ctx.json ? JSON.stringify(showUser(user)) : `updated user ${user.username} (${user.id})`);
});

export const usersGet = command({ options: {}, arguments: USER }, async (ctx, { positionals }) => {
  const user = await readOperations(ctx, (ops) => resolve(ops, positionals));
  ctx.out(JSON.stringify(showUser(user), null, ctx.json ? undefined : 2));
});

export const usersList = command({ options: LIST_OPTIONS }, async (ctx, { values }) => {
  const page = await readOperations(ctx, (ops) =>
    ops.users.search({
      ...(values.query === undefined ? {} : { q: values.query }),
      ...(values.role === undefined ? {} : { role: values.role }),
      ...(values.group === undefined ? {} : { group: values.group }),
      ...(values.limit === undefined ? {} : { limit: values.limit }),
      ...(values.offset === undefined ? {} : { offset: values.offset }),
    }),
  );
  if (ctx.json) ctx.out(JSON.stringify(showUserPage(page)));
  else for (const user of page.users) ctx.out(`${user.id}  ${user.username}  ${user.email ?? '-'}  ${user.roles.join(',') || '-'}${user.disabled ? '  [disabled]' : ''}`);
});

/** `--temporary`: the user must choose another password at their next sign-in (required action update_password). */
export const usersSetPassword = command({ options: { 'password-stdin': { type: 'boolean' }, temporary: { type: 'boolean' } }, arguments: USER }, async (ctx, { values, positionals }) => {
  if (values['password-stdin'] !== true) throw new CliError('--password-stdin is required: passwords are read from standard input, never from arguments', 2);
  const password = await readStdinSecret(ctx, '--password-stdin', { prompt: 'Password: ' });
  const temporary = values.temporary === true;
  const user = await withOperations(ctx, async (ops) => {
    const found = await resolve(ops, positionals);
    await ops.users.setPassword(cliActor(), found.id, { password, ...(temporary ? { temporary } : {}) });
    return found;
  });
  ctx.out(ctx.json ? JSON.stringify({ id: user.id, password_set: true, ...(temporary ? { temporary } : {}) }) : `${temporary ? 'temporary password' : 'password'} set for ${user.username}${temporary ? ' (to be changed at the next sign-in)' : ''}`);
});

/** `users invite USER [--client-id --redirect-uri] [--lifetime SECONDS]`: mails a link to set their password. */
export const usersInvite = command({ options: INVITE_OPTIONS, arguments: USER }, async (ctx, { values, positionals }) => {
  if (values.revoke === true || values.show === true) return inviteStatus(ctx, values, positionals);
  const lifetime = values.lifetime;
  if (lifetime !== undefined && !/^\d+$/.test(lifetime)) throw new CliError('--lifetime: a whole number of seconds', 2);
  const [user, sent] = await withOperations(ctx, async (ops) => {
    const found = await resolve(ops, positionals);
    const body = {
      ...(values['client-id'] === undefined ? {} : { client_id: values['client-id'] }),
      ...(values['redirect-uri'] === undefined ? {} : { redirect_uri: values['redirect-uri'] }),
      ...(lifetime === undefined ? {} : { lifetime_seconds: Number(lifetime) }),
    };
    return [found, await ops.users.invite(cliActor(), found.id, body)] as const;
  });
  ctx.out(ctx.json ? JSON.stringify({ id: user.id, ...sent }) : `invitation sent to ${user.email ?? ''} for ${user.username}; the link works once, for ${sent.expires_in} seconds`);
});

/**
 * `users invite USER --show`: the invitation that still works (sent, expires, the application);
 * `--revoke`: ends it (GET and DELETE /users/{id}/invitation). Exit 1 when there is none to revoke.
 */
async function inviteStatus(ctx: CliContext, values: ParsedLine<typeof INVITE_OPTIONS>['values'], positionals: string[]): Promise<void> {
  if (values.revoke === true && values.show === true) throw new CliError('--revoke and --show exclude each other', 2);
  const other = (['client-id', 'redirect-uri', 'lifetime'] as const).find((name) => values[name] !== undefined);
  if (other !== undefined) throw new CliError(`--${other} is for sending an invitation, not with --${values.revoke === true ? 'revoke' : 'show'}`, 2);
  if (values.revoke === true) {
    const user = await withOperations(ctx, async (ops) => {
      const found = await resolve(ops, positionals);
      await ops.users.revokeInvitation(cliActor(), found.id);
      return found;
    });
    ctx.out(ctx.json ? JSON.stringify({ id: user.id, revoked: true }) : `invitation of ${user.username} revoked: its link no longer works`);
    return;
  }
  const [user, shown] = await withOperations(ctx, async (ops) => {
    const found = await resolve(ops, positionals);
    return [found, await ops.users.invitation(found.id)] as const;
  });
  if (ctx.json) ctx.out(JSON.stringify({ id: user.id, ...shown }));
  else if (!shown.pending) ctx.out(`${user.username} has no invitation that still works`);
  else ctx.out(`invitation of ${user.username}: sent ${shown.sent_at ?? 'at an unknown time (before Gatehouse recorded when invitations were sent)'}, expires ${shown.expires_at}${shown.client_id === null ? '' : `, leads back to ${shown.client_id} (${shown.redirect_uri ?? ''})`}`);
}

const DONE = { disable: 'disabled', enable: 'enabled', unlock: 'unlocked' } as const;

function stateChange(change: 'disable' | 'enable' | 'unlock') {
  return command({ options: {}, arguments: USER }, async (ctx, { positionals }) => {
    const [user, lifted] = await withOperations(ctx, async (ops) => {
      const found = await resolve(ops, positionals);
      if (change === 'unlock') return [found, await ops.users.unlock(cliActor(), found.id)] as const;
      await ops.users[change](cliActor(), found.id);
      return [found, undefined] as const;
    });
    if (ctx.json) ctx.out(JSON.stringify({ id: user.id, [DONE[change]]: true, ...(lifted === undefined ? {} : { lifted }) }));
    else ctx.out(`${DONE[change]} ${user.username}${change === 'disable' ? '; sessions, grants and tokens revoked' : ''}`);
  });
}

/** `users mfa USER [--reset]`: shows (or resets) the user's second factors. */
export const usersMfa = command({ options: { reset: { type: 'boolean' } }, arguments: USER }, async (ctx, { values, positionals }) => {
  const [user, status, removed] = await withOperations(ctx, async (ops) => {
    const found = await resolve(ops, positionals);
    const reset = values.reset === true ? await ops.users.resetFactors(cliActor(), found.id) : undefined;
    return [found, await ops.users.factors(found.id), reset] as const;
  }, { writes: values.reset === true });
  const shown = status;
  if (ctx.json) ctx.out(JSON.stringify({ id: user.id, ...shown, ...(removed === undefined ? {} : { reset: removed }) }));
  else {
    if (removed !== undefined) ctx.out(removed ? `second factors of ${user.username} removed` : `${user.username} had no second factor`);
    ctx.out(`${user.username}: ${shown.totp === null ? 'no authenticator app' : `authenticator app since ${shown.totp.enrolled_at}`}, ${shown.passkeys.length} passkeys, ${shown.recovery_codes_left} recovery codes left`);
  }
});

/**
 * `users delete USER [--yes]`: deletes the user for good (src/operations/user-deletion.ts). Asks
 * first: at a terminal the operator types the username back (without echo, like a password);
 * without a terminal (a script, a pipe) only `--yes` confirms, so a command line that forgot it
 * deletes nothing (exit 2, before a store is opened).
 */
export const usersDelete = command({ options: { yes: { type: 'boolean' } }, arguments: USER }, async (ctx, { values, positionals }) => {
  const confirmed = values.yes === true;
  const ask = ctx.readHidden;
  if (!confirmed && ask === undefined) throw new CliError('--yes is required when standard input is not a terminal: deleting a user cannot be undone (nothing was deleted)', 2);
  const deleted = await withOperations(ctx, async (ops) => {
    const found = await resolve(ops, positionals);
    if (!confirmed) {
      const typed = await ask!(`Delete user ${found.username} (${found.id}) and everything of theirs for good? Type the username to confirm: `);
      if (typed.trim() !== found.username) throw new CliError(`not deleted: what was typed is not the username ${found.username}`, 1);
    }
    return ops.users.delete(cliActor(), found.id);
  });
  ctx.out(ctx.json ? JSON.stringify({ id: deleted.id, username: deleted.username, deleted: true, revoked: deleted.revoked }) : `deleted user ${deleted.username} (${deleted.id}); sessions, grants and tokens revoked`);
});

export const usersDisable = stateChange('disable');
export const usersEnable = stateChange('enable');
export const usersUnlock = stateChange('unlock');
