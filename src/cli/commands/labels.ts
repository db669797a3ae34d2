import { showLabel } from '../../operations/labels.ts';
import { command } from '../command-line.ts';
import { CliError } from '../context.ts';
import type { FlagsOf } from '../flag-errors.ts';
import { cliActor, readOperations, withOperations } from '../services.ts';

/** The role or group a command is about. */
const NAME = ['NAME'];
const ON_USER = { options: { user: { type: 'string' } }, arguments: NAME } as const;

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
    create: command({ options: { description: { type: 'string' } }, arguments: NAME }, async (ctx, { values, positionals }) => {
      const label = await withOperations(ctx, (ops) => ops[kind].create(cliActor(), { name: nameArg(positionals), description: values.description ?? '' }));
      ctx.out(ctx.json ? JSON.stringify(showLabel(label)) : `created ${one} ${label.name}`);
    }),
    list: command({ options: {} }, async (ctx) => {
      const labels = await readOperations(ctx, (ops) => ops[kind].list());
      if (ctx.json) ctx.out(JSON.stringify(labels.map(showLabel)));
      else for (const label of labels) ctx.out(`${label.name}  ${label.description}`);
    }),
    delete: command({ options: {}, arguments: NAME }, async (ctx, { positionals }) => {
      const name = nameArg(positionals);
      await withOperations(ctx, (ops) => ops[kind].delete(cliActor(), name));
      ctx.out(ctx.json ? JSON.stringify({ deleted: name }) : `deleted ${one} ${name}`);
    }),
    assign: command(ON_USER, async (ctx, { values, positionals }) => {
      const name = nameArg(positionals);
      const id = await withOperations(ctx, async (ops) => {
        const user = await ops.users.resolve(userArg(values.user));
        await ops[kind].assign(cliActor(), name, { user_id: user.id });
        return user.id;
      });
      ctx.out(ctx.json ? JSON.stringify({ [one]: name, user_id: id, assigned: true }) : `assigned ${one} ${name} to ${id}`);
    }),
    remove: command(ON_USER, async (ctx, { values, positionals }) => {
      const name = nameArg(positionals);
      const id = await withOperations(ctx, async (ops) => {
        const user = await ops.users.resolve(userArg(values.user));
        await ops[kind].unassign(cliActor(), name, user.id);
        return user.id;
      });
      ctx.out(ctx.json ? JSON.stringify({ [one]: name, user_id: id, removed: true }) : `removed ${one} ${name} from ${id}`);
    }),
  };
}
