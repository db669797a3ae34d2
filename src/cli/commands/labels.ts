import { parseArgs } from 'node:util';
import { showLabel } from '../../operations/labels.ts';
import { CliError, type CliContext } from '../context.ts';
import type { FlagsOf } from '../flag-errors.ts';
import { cliActor, withOperations } from '../services.ts';

const OPTIONS = { description: { type: 'string' }, user: { type: 'string' }, json: { type: 'boolean' } } as const;
const parse = (args: string[]) => parseArgs({ args, options: OPTIONS, allowPositionals: true });

/** The body's fields said as the command line says them (src/cli/flag-errors.ts). */
export const LABEL_FLAGS: FlagsOf = { name: 'NAME', description: '--description', user_id: '--user' };

/** `gatehouse roles ...` and `gatehouse groups ...`: the same commands over two directories. */
export function labelCommands(kind: 'roles' | 'groups') {
  const one = kind.slice(0, -1);
  const nameArg = (positionals: string[]) => {
    const name = positionals[0];
    if (name === undefined) throw new CliError(`the ${one} name is required`, 2);
    return name;
  };
  const userArg = (user: string | undefined) => {
    if (user === undefined) throw new CliError('--user (id, username or email) is required', 2);
    return user;
  };

  return {
    async create(ctx: CliContext, args: string[]): Promise<void> {
      const { values, positionals } = parse(args);
      const label = await withOperations(ctx, (ops) => ops[kind].create(cliActor(), { name: nameArg(positionals), description: values.description ?? '' }));
      ctx.out(ctx.json ? JSON.stringify(showLabel(label)) : `created ${one} ${label.name}`);
    },
    async list(ctx: CliContext): Promise<void> {
      const labels = await withOperations(ctx, (ops) => ops[kind].list());
      if (ctx.json) ctx.out(JSON.stringify(labels.map(showLabel)));
      else for (const label of labels) ctx.out(`${label.name}  ${label.description}`);
    },
    async delete(ctx: CliContext, args: string[]): Promise<void> {
      const name = nameArg(parse(args).positionals);
      await withOperations(ctx, (ops) => ops[kind].delete(cliActor(), name));
      ctx.out(ctx.json ? JSON.stringify({ deleted: name }) : `deleted ${one} ${name}`);
    },
    async assign(ctx: CliContext, args: string[]): Promise<void> {
      const { values, positionals } = parse(args);
      const name = nameArg(positionals);
      const id = await withOperations(ctx, async (ops) => {
        const user = await ops.users.resolve(userArg(values.user));
        await ops[kind].assign(cliActor(), name, { user_id: user.id });
        return user.id;
      });
      ctx.out(ctx.json ? JSON.stringify({ [one]: name, user_id: id, assigned: true }) : `assigned ${one} ${name} to ${id}`);
    },
    async remove(ctx: CliContext, args: string[]): Promise<void> {
      const { values, positionals } = parse(args);
      const name = nameArg(positionals);
      const id = await withOperations(ctx, async (ops) => {
        const user = await ops.users.resolve(userArg(values.user));
        await ops[kind].unassign(cliActor(), name, user.id);
        return user.id;
      });
      ctx.out(ctx.json ? JSON.stringify({ [one]: name, user_id: id, removed: true }) : `removed ${one} ${name} from ${id}`);
    },
  };
}
