import { parseArgs } from 'node:util';
import { labelOperations, showLabel } from '../../operations/labels.ts';
import { notFound } from '../../operations/errors.ts';
import type { GatehouseServices } from '../../services.ts';
import { CliError, type CliContext } from '../context.ts';
import { cliActor, withServices } from '../services.ts';

const OPTIONS = { description: { type: 'string' }, user: { type: 'string' }, json: { type: 'boolean' } } as const;
const parse = (args: string[]) => parseArgs({ args, options: OPTIONS, allowPositionals: true });

function nameArg(positionals: string[]): string {
  const name = positionals[0];
  if (name === undefined) throw new CliError('the role name is required', 2);
  return name;
}

async function userId(services: GatehouseServices, ref: string | undefined): Promise<string> {
  if (ref === undefined) throw new CliError('--user (id, username or email) is required', 2);
  const user = (await services.accounts.findById(ref)) ?? (await services.accounts.findByLogin(ref));
  if (user === undefined) throw notFound('user', ref);
  return user.id;
}

export async function rolesCreate(ctx: CliContext, args: string[]): Promise<void> {
  const { values, positionals } = parse(args);
  const role = await withServices(ctx, (s) => labelOperations(s.roles, s.audit).create(cliActor(), { name: nameArg(positionals), description: values.description ?? '' }));
  ctx.out(ctx.json ? JSON.stringify(showLabel(role)) : `created role ${role.name}`);
}

export async function rolesList(ctx: CliContext): Promise<void> {
  const roles = await withServices(ctx, (s) => s.roles.list());
  if (ctx.json) ctx.out(JSON.stringify(roles.map(showLabel)));
  else for (const role of roles) ctx.out(`${role.name}  ${role.description}`);
}

export async function rolesDelete(ctx: CliContext, args: string[]): Promise<void> {
  const name = nameArg(parse(args).positionals);
  await withServices(ctx, (s) => labelOperations(s.roles, s.audit).delete(cliActor(), name));
  ctx.out(ctx.json ? JSON.stringify({ deleted: name }) : `deleted role ${name}`);
}

export async function rolesAssign(ctx: CliContext, args: string[]): Promise<void> {
  const { values, positionals } = parse(args);
  const name = nameArg(positionals);
  const id = await withServices(ctx, async (s) => {
    const user = await userId(s, values.user);
    await labelOperations(s.roles, s.audit).assign(cliActor(), name, { user_id: user });
    return user;
  });
  ctx.out(ctx.json ? JSON.stringify({ role: name, user_id: id, assigned: true }) : `assigned ${name} to ${id}`);
}

export async function rolesRemove(ctx: CliContext, args: string[]): Promise<void> {
  const { values, positionals } = parse(args);
  const name = nameArg(positionals);
  const id = await withServices(ctx, async (s) => {
    const user = await userId(s, values.user);
    await labelOperations(s.roles, s.audit).unassign(cliActor(), name, user);
    return user;
  });
  ctx.out(ctx.json ? JSON.stringify({ role: name, user_id: id, removed: true }) : `removed ${name} from ${id}`);
}
