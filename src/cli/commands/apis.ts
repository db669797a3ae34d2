import { parseArgs } from 'node:util';
import { apiOperations, showApi } from '../../operations/apis.ts';
import { CliError, type CliContext } from '../context.ts';
import { cliActor, withServices } from '../services.ts';

/** Flags → the admin API's body, so both go through one schema, one audit trail. */
export async function apisCreate(ctx: CliContext, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      identifier: { type: 'string' },
      name: { type: 'string' },
      scope: { type: 'string', default: '' },
      format: { type: 'string' },
      alg: { type: 'string' },
      ttl: { type: 'string' },
      roles: { type: 'boolean', default: false },
      groups: { type: 'boolean', default: false },
      'token-claims': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  if (values.identifier === undefined) throw new CliError('--identifier is required (the API\'s URI, used as the token audience)', 2);
  if (values.ttl !== undefined && !/^\d+$/.test(values.ttl)) throw new CliError('--ttl must be a whole number of seconds', 2);
  const body = {
    identifier: values.identifier,
    ...(values.name === undefined ? {} : { name: values.name }),
    scopes: values.scope.split(/\s+/).filter(Boolean),
    ...(values.format === undefined ? {} : { format: values.format }),
    ...(values.alg === undefined ? {} : { alg: values.alg }),
    ...(values.ttl === undefined ? {} : { access_token_ttl: Number(values.ttl) }),
    include_roles: values.roles,
    include_groups: values.groups,
    ...(values['token-claims'] === undefined ? {} : { token_claims: values['token-claims'] }),
  };
  const api = await withServices(ctx, (services) => apiOperations(services).create(cliActor(), body));
  ctx.out(ctx.json ? JSON.stringify(showApi(api)) : `created API ${api.identifier} (${api.format}, ${api.alg}) scopes: ${api.scopes.join(' ') || '-'}`);
}

export async function apisList(ctx: CliContext): Promise<void> {
  const apis = await withServices(ctx, (services) => apiOperations(services).list());
  if (ctx.json) ctx.out(JSON.stringify(apis.map(showApi)));
  else for (const api of apis) ctx.out(`${api.identifier}  ${api.format}  ${api.alg}  ${api.scopes.join(' ')}`);
}
