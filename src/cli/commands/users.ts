import { parseArgs } from 'node:util';
import type { User } from '../../accounts/accounts.ts';
import type { Operations } from '../../operations/index.ts';
import { showUser } from '../../operations/users.ts';
import { CliError, type CliContext } from '../context.ts';
import { cliActor, readStdinSecret, withOperations } from '../services.ts';

const OPTIONS = {
  username: { type: 'string' },
  email: { type: 'string' },
  name: { type: 'string' },
  role: { type: 'string', multiple: true },
  group: { type: 'string', multiple: true },
  'password-stdin': { type: 'boolean' },
  query: { type: 'string' },
  limit: { type: 'string' },
  offset: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const parse = (args: string[]) => parseArgs({ args, options: OPTIONS, allowPositionals: true });

/** A user named by id or by username/email (operators rarely know the id). */
async function resolve(ops: Operations, positionals: string[]): Promise<User> {
  const ref = positionals[0];
  if (ref === undefined) throw new CliError('the user (id, username or email) is required', 2);
  return ops.users.resolve(ref);
}

export async function usersCreate(ctx: CliContext, args: string[]): Promise<void> {
  const { values } = parse(args);
  if (values.username === undefined) throw new CliError('--username is required', 2);
  if (values['password-stdin'] !== true) throw new CliError('--password-stdin is required: passwords are read from standard input, never from arguments', 2);
  const password = await readStdinSecret('--password-stdin');
  const user = await withOperations(ctx, (ops) =>
    ops.users.create(cliActor(), {
      username: values.username,
      password,
      ...(values.email === undefined ? {} : { email: values.email }),
      ...(values.name === undefined ? {} : { name: values.name }),
      roles: values.role ?? [],
      groups: values.group ?? [],
    }),
  );
  ctx.out(ctx.json ? JSON.stringify({ id: user.id, username: user.username }) : `created user ${user.username} (${user.id})`);
}

export async function usersList(ctx: CliContext, args: string[]): Promise<void> {
  const { values } = parse(args);
  const page = await withOperations(ctx, (ops) =>
    ops.users.search({
      ...(values.query === undefined ? {} : { q: values.query }),
      ...(values.role?.[0] === undefined ? {} : { role: values.role[0] }),
      ...(values.group?.[0] === undefined ? {} : { group: values.group[0] }),
      ...(values.limit === undefined ? {} : { limit: values.limit }),
      ...(values.offset === undefined ? {} : { offset: values.offset }),
    }),
  );
  if (ctx.json) ctx.out(JSON.stringify({ users: page.users.map(showUser), total: page.total }));
  else for (const user of page.users) ctx.out(`${user.id}  ${user.username}  ${user.email ?? '-'}  ${user.roles.join(',') || '-'}${user.disabled ? '  [disabled]' : ''}`);
}

export async function usersSetPassword(ctx: CliContext, args: string[]): Promise<void> {
  const { values, positionals } = parse(args);
  if (values['password-stdin'] !== true) throw new CliError('--password-stdin is required: passwords are read from standard input, never from arguments', 2);
  const password = await readStdinSecret('--password-stdin');
  const user = await withOperations(ctx, async (ops) => {
    const found = await resolve(ops, positionals);
    await ops.users.setPassword(cliActor(), found.id, { password });
    return found;
  });
  ctx.out(ctx.json ? JSON.stringify({ id: user.id, password_set: true }) : `password set for ${user.username}`);
}

function stateChange(change: 'disable' | 'enable' | 'unlock') {
  return async (ctx: CliContext, args: string[]): Promise<void> => {
    const { positionals } = parse(args);
    const [user, lifted] = await withOperations(ctx, async (ops) => {
      const found = await resolve(ops, positionals);
      if (change === 'unlock') return [found, await ops.users.unlock(cliActor(), found.id)] as const;
      await ops.users[change](cliActor(), found.id);
      return [found, undefined] as const;
    });
    if (ctx.json) ctx.out(JSON.stringify({ id: user.id, [`${change}d`]: true, ...(lifted === undefined ? {} : { lifted }) }));
    else ctx.out(`${change}d ${user.username}${change === 'disable' ? '; sessions, grants and tokens revoked' : ''}`);
  };
}

export const usersDisable = stateChange('disable');
export const usersEnable = stateChange('enable');
export const usersUnlock = stateChange('unlock');
