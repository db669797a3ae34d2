import { command } from '../command-line.ts';
import { CliError } from '../context.ts';
import { cliActor, withOperations } from '../services.ts';

/** gatehouse grants revoke --user REF | --client ID | --grant ID */
export const grantsRevoke = command({ options: { user: { type: 'string' }, client: { type: 'string' }, grant: { type: 'string' } } }, async (ctx, { values }) => {
  const chosen = [values.user, values.client, values.grant].filter((v) => v !== undefined);
  if (chosen.length !== 1) throw new CliError('give exactly one of --user, --client or --grant', 2);
  const result = await withOperations(ctx, async (ops) => {
    if (values.grant !== undefined) {
      await ops.sessions.revokeGrant(cliActor(), values.grant);
      return { grant: values.grant, revoked: true };
    }
    if (values.client !== undefined) return { client_id: values.client, ...(await ops.clients.revokeTokens(cliActor(), values.client)) };
    const user = await ops.users.resolve(values.user!);
    return { user_id: user.id, ...(await ops.users.revokeAll(cliActor(), user.id)) };
  });
  ctx.out(ctx.json ? JSON.stringify(result) : `revoked: ${JSON.stringify(result)}`);
});
