import { showConsent } from '../../operations/consent-view.ts';
import { command } from '../command-line.ts';
import { CliError } from '../context.ts';
import { cliActor, readOperations, withOperations } from '../services.ts';

const OPTIONS = { user: { type: 'string' } } as const;

function userArg(values: { user?: string | undefined }, usage: string): string {
  if (values.user === undefined) throw new CliError(`--user (id, username or email) is required: ${usage}`, 2);
  return values.user;
}

/** gatehouse consents list --user USER: what the user agreed to give each application, kept across sign-in sessions. */
export const consentsList = command({ options: OPTIONS }, async (ctx, { values }) => {
  const consents = await readOperations(ctx, async (ops) => {
    const user = await ops.users.resolve(userArg(values, 'gatehouse consents list --user USER'));
    return (await ops.consents.list(user.id)).map(showConsent);
  });
  if (ctx.json) ctx.out(JSON.stringify(consents));
  else {
    for (const c of consents) {
      const apis = Object.entries(c.resources).map(([api, scopes]) => `${api} (${scopes.join(' ')})`);
      ctx.out(`${c.client_id}  scopes: ${c.scopes.join(' ') || '-'}${c.claims.length > 0 ? `  claims: ${c.claims.join(' ')}` : ''}${apis.length > 0 ? `  APIs: ${apis.join(', ')}` : ''}  since ${c.created_at}`);
    }
  }
});

/** gatehouse consents revoke CLIENT_ID --user USER: removes the consent and revokes the user's grants to the client. */
export const consentsRevoke = command({ options: OPTIONS, arguments: ['CLIENT_ID'] }, async (ctx, { values, positionals }) => {
  const usage = 'gatehouse consents revoke CLIENT_ID --user USER';
  const clientId = positionals[0];
  if (clientId === undefined) throw new CliError(`the client id is required: ${usage}`, 2);
  const result = await withOperations(ctx, async (ops) => {
    const user = await ops.users.resolve(userArg(values, usage));
    return { user_id: user.id, client_id: clientId, ...(await ops.consents.revoke(cliActor(), user.id, clientId)) };
  });
  ctx.out(ctx.json ? JSON.stringify(result) : `revoked the consent to ${clientId}${result.grants > 0 ? ` and ${result.grants} grant(s) with their tokens` : ''}; it asks again at its next sign-in`);
});
