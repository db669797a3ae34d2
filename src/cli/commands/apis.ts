import { showApi } from '../../operations/api-view.ts';
import { command, type CommandLine, type ParsedLine } from '../command-line.ts';
import { CliError } from '../context.ts';
import type { FlagsOf } from '../flag-errors.ts';
import { cliActor, readOperations, withOperations } from '../services.ts';

const OPTIONS = {
  identifier: { type: 'string' },
  name: { type: 'string' },
  scope: { type: 'string' },
  format: { type: 'string' },
  alg: { type: 'string' },
  ttl: { type: 'string' },
  roles: { type: 'boolean' },
  'no-roles': { type: 'boolean' },
  groups: { type: 'boolean' },
  'no-groups': { type: 'boolean' },
  'introspection-client': { type: 'string' },
  'no-introspection-client': { type: 'boolean' },
  'token-claims': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** The body's fields said as flags, for errors (src/cli/flag-errors.ts). */
export const API_FLAGS: FlagsOf = {
  identifier: '--identifier',
  name: '--name',
  scopes: '--scope words',
  format: '--format',
  alg: '--alg',
  access_token_ttl: '--ttl',
  include_roles: '--roles|--no-roles',
  include_groups: '--groups|--no-groups',
  client_id: '--introspection-client|--no-introspection-client',
  token_claims: '--token-claims',
};

/** `apis get|update|delete URI` (or --identifier URI). */
const ONE_API: CommandLine<typeof OPTIONS> = { options: OPTIONS, arguments: [{ name: 'IDENTIFIER', or: 'identifier' }] };

/** Flags → the admin API's body, so both go through one schema, one audit trail. */
function bodyFrom(values: ParsedLine<typeof OPTIONS>['values']): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (values.name !== undefined) body.name = values.name;
  if (values.scope !== undefined) body.scopes = values.scope.split(/\s+/).filter(Boolean);
  if (values.format !== undefined) body.format = values.format;
  if (values.alg !== undefined) body.alg = values.alg;
  if (values.ttl !== undefined) {
    if (!/^\d+$/.test(values.ttl)) throw new CliError('--ttl must be a whole number of seconds', 2);
    body.access_token_ttl = Number(values.ttl);
  }
  if (values.roles === true) body.include_roles = true;
  if (values['no-roles'] === true) body.include_roles = false;
  if (values.groups === true) body.include_groups = true;
  if (values['no-groups'] === true) body.include_groups = false;
  if (values['introspection-client'] !== undefined) body.client_id = values['introspection-client'];
  if (values['no-introspection-client'] === true) body.client_id = null;
  if (values['token-claims'] !== undefined) body.token_claims = values['token-claims'];
  return body;
}

/** The API named by --identifier or as the first argument. */
function identifierArg(values: { identifier?: string | undefined }, positionals: string[]): string {
  const identifier = values.identifier ?? positionals[0];
  if (identifier === undefined) throw new CliError('the API identifier is required (its URI, the token audience)', 2);
  return identifier;
}

const line = (api: ReturnType<typeof showApi>) => `${api.identifier}  ${api.format}  ${api.alg}  ttl ${api.access_token_ttl}s  ${api.scopes.join(' ') || '-'}`;

export const apisCreate = command({ options: OPTIONS }, async (ctx, { values }) => {
  if (values.identifier === undefined) throw new CliError('--identifier is required (the API\'s URI, used as the token audience)', 2);
  const body = { identifier: values.identifier, scopes: [], ...bodyFrom(values) };
  const api = await withOperations(ctx, (ops) => ops.apis.create(cliActor(), body));
  ctx.out(ctx.json ? JSON.stringify(showApi(api)) : `created API ${api.identifier} (${api.format}, ${api.alg}) scopes: ${api.scopes.join(' ') || '-'}`);
});

export const apisList = command({ options: {} }, async (ctx) => {
  const apis = await readOperations(ctx, (ops) => ops.apis.list());
  if (ctx.json) ctx.out(JSON.stringify(apis.map(showApi)));
  else for (const api of apis) ctx.out(line(showApi(api)));
});

export const apisGet = command(ONE_API, async (ctx, { values, positionals }) => {
  const api = await readOperations(ctx, (ops) => ops.apis.get(identifierArg(values, positionals)));
  ctx.out(JSON.stringify(showApi(api), null, ctx.json ? undefined : 2));
});

export const apisUpdate = command(ONE_API, async (ctx, { values, positionals }) => {
  const identifier = identifierArg(values, positionals);
  const body = bodyFrom(values);
  const api = await withOperations(ctx, (ops) => ops.apis.update(cliActor(), identifier, body));
  ctx.out(ctx.json ? JSON.stringify(showApi(api)) : `updated API ${line(showApi(api))}`);
});

export const apisDelete = command(ONE_API, async (ctx, { values, positionals }) => {
  const identifier = identifierArg(values, positionals);
  await withOperations(ctx, (ops) => ops.apis.delete(cliActor(), identifier));
  ctx.out(ctx.json ? JSON.stringify({ deleted: identifier }) : `deleted API ${identifier}`);
});
