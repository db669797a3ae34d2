import { parseArgs } from 'node:util';
import { clientOperations } from '../../operations/clients.ts';
import { notFound } from '../../operations/errors.ts';
import { userOperations } from '../../operations/users.ts';
import { CliError, type CliContext } from '../context.ts';
import { cliActor, withServices } from '../services.ts';

/** gatehouse grants revoke --user REF | --client ID | --grant ID */
export async function grantsRevoke(ctx: CliContext, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { user: { type: 'string' }, client: { type: 'string' }, grant: { type: 'string' }, json: { type: 'boolean' } },
  });
  const chosen = [values.user, values.client, values.grant].filter((v) => v !== undefined);
  if (chosen.length !== 1) throw new CliError('give exactly one of --user, --client or --grant', 2);
  const result = await withServices(ctx, async (services) => {
    if (values.grant !== undefined) {
      await userOperations(services).revokeGrant(cliActor(), values.grant);
      return { grant: values.grant, revoked: true };
    }
    if (values.client !== undefined) {
      await clientOperations(services).get(values.client);
      const revoked = await services.revocation.revokeByClientId(values.client);
      await services.audit.record({ ...cliActor(), type: 'client.tokens_revoked', target: { type: 'client', id: values.client }, details: { revoked } });
      return { client_id: values.client, ...revoked };
    }
    const ref = values.user!;
    const user = (await services.accounts.findById(ref)) ?? (await services.accounts.findByLogin(ref));
    if (user === undefined) throw notFound('user', ref);
    return { user_id: user.id, ...(await userOperations(services).revokeAll(cliActor(), user.id)) };
  });
  ctx.out(ctx.json ? JSON.stringify(result) : `revoked: ${JSON.stringify(result)}`);
}
