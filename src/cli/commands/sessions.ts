import { showSession } from '../../operations/sessions.ts';
import { command } from '../command-line.ts';
import { CliError } from '../context.ts';
import { cliActor, readOperations, withOperations } from '../services.ts';

const OPTIONS = { user: { type: 'string' } } as const;

function userArg(values: { user?: string | undefined }, positionals: string[]): string {
  const user = values.user ?? positionals[0];
  if (user === undefined) throw new CliError('the user (id, username or email) is required: --user USER', 2);
  return user;
}

/** gatehouse sessions list --user USER: the user's sign-in sessions and the clients signed in to in each. */
export const sessionsList = command({ options: OPTIONS, arguments: [{ name: 'USER', or: 'user' }] }, async (ctx, { values, positionals }) => {
  const sessions = await readOperations(ctx, async (ops) => {
    const user = await ops.users.resolve(userArg(values, positionals));
    return ops.sessions.list(user.id);
  });
  if (ctx.json) ctx.out(JSON.stringify(sessions.map(showSession)));
  else for (const s of sessions.map(showSession)) ctx.out(`${s.id}  signed in ${s.login_at ?? '-'}  expires ${s.expires_at ?? '-'}  clients: ${s.clients.join(' ') || '-'}`);
});

/** gatehouse sessions revoke SESSION_ID --user USER: ends the session and revokes the grants made in it. */
export const sessionsRevoke = command({ options: OPTIONS, arguments: [{ name: 'USER', or: 'user' }, 'SESSION_ID'] }, async (ctx, { values, positionals }) => {
  const usage = 'gatehouse sessions revoke SESSION_ID --user USER';
  if (values.user === undefined && positionals.length === 1) throw new CliError(`--user (id, username or email) is required: ${usage}`, 2);
  const sessionId = values.user === undefined ? positionals[1] : positionals[0];
  if (sessionId === undefined) throw new CliError(`the session id is required: ${usage}`, 2);
  const userId = await withOperations(ctx, async (ops) => {
    const user = await ops.users.resolve(userArg(values, positionals));
    await ops.sessions.revoke(cliActor(), user.id, sessionId);
    return user.id;
  });
  ctx.out(ctx.json ? JSON.stringify({ user_id: userId, session: sessionId, revoked: true }) : `ended session ${sessionId}; its grants are revoked`);
});
