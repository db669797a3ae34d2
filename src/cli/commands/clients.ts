import { parseArgs } from 'node:util';
import { clientOperations, showClient, showCreated } from '../../operations/clients.ts';
import { CliError, type CliContext } from '../context.ts';
import { cliActor, withServices } from '../services.ts';

const CLIENT_OPTIONS = {
  name: { type: 'string' },
  type: { type: 'string' },
  'client-id': { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  'grant-type': { type: 'string', multiple: true },
  scope: { type: 'string' },
  api: { type: 'string', multiple: true },
  'default-api': { type: 'string' },
  'web-origin': { type: 'string', multiple: true },
  'first-party': { type: 'boolean' },
  'no-first-party': { type: 'boolean' },
  admin: { type: 'boolean' },
  'no-admin': { type: 'boolean' },
  'require-pkce': { type: 'boolean' },
  'allow-password-grant': { type: 'boolean' },
  'no-allow-password-grant': { type: 'boolean' },
  'exchange-api': { type: 'string', multiple: true },
  'exchange-trust': { type: 'string', multiple: true },
  'no-token-exchange': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

function parse(args: string[]) {
  return parseArgs({ args, options: CLIENT_OPTIONS, allowPositionals: true });
}

/** Flags → the admin API's body, so both go through one schema. */
function specFrom(values: ReturnType<typeof parse>['values']): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) spec[key] = value;
  };
  set('name', values.name);
  set('type', values.type);
  set('client_id', values['client-id']);
  set('redirect_uris', values['redirect-uri']);
  set('post_logout_redirect_uris', values['post-logout-redirect-uri']);
  set('grant_types', values['grant-type']);
  set('scope', values.scope);
  set('apis', values.api);
  set('default_api', values['default-api']);
  set('web_origins', values['web-origin']);
  if (values['first-party'] === true) spec.first_party = true;
  if (values['no-first-party'] === true) spec.first_party = false;
  if (values.admin === true) spec.admin = true;
  if (values['no-admin'] === true) spec.admin = false;
  set('require_pkce', values['require-pkce']);
  if (values['allow-password-grant'] === true) spec.allow_password_grant = true;
  if (values['no-allow-password-grant'] === true) spec.allow_password_grant = false;
  if (values['exchange-api'] !== undefined || values['exchange-trust'] !== undefined) {
    spec.token_exchange = { apis: values['exchange-api'] ?? [], trusted_clients: values['exchange-trust'] ?? [] };
  }
  if (values['no-token-exchange'] === true) spec.token_exchange = null;
  return spec;
}

function clientIdArg(positionals: string[]): string {
  const id = positionals[0];
  if (id === undefined) throw new CliError('the client id is required, e.g. gatehouse clients get CLIENT_ID', 2);
  return id;
}

export async function clientsCreate(ctx: CliContext, args: string[]): Promise<void> {
  const { values } = parse(args);
  if (values.name === undefined) throw new CliError('--name is required', 2);
  const created = await withServices(ctx, (services) => clientOperations(services).create(cliActor(), specFrom(values)));
  if (ctx.json) {
    ctx.out(JSON.stringify({ client_id: created.client.clientId, ...(created.secret === undefined ? {} : { client_secret: created.secret }) }));
    return;
  }
  ctx.out(`created client ${created.client.clientId}`);
  if (created.secret !== undefined) ctx.out(`client secret (shown once): ${created.secret}`);
}

export async function clientsList(ctx: CliContext): Promise<void> {
  const clients = await withServices(ctx, (services) => services.clients.list());
  if (ctx.json) ctx.out(JSON.stringify(clients.map(showClient)));
  else for (const client of clients) ctx.out(`${client.clientId}  ${client.displayName}${client.admin ? '  [admin]' : ''}`);
}

export async function clientsGet(ctx: CliContext, args: string[]): Promise<void> {
  const { positionals } = parse(args);
  const client = await withServices(ctx, (services) => clientOperations(services).get(clientIdArg(positionals)));
  ctx.out(JSON.stringify(showClient(client), null, ctx.json ? undefined : 2));
}

export async function clientsUpdate(ctx: CliContext, args: string[]): Promise<void> {
  const { values, positionals } = parse(args);
  const client = await withServices(ctx, (services) => clientOperations(services).update(cliActor(), clientIdArg(positionals), specFrom(values)));
  ctx.out(ctx.json ? JSON.stringify(showClient(client)) : `updated client ${client.clientId}`);
}

export async function clientsDelete(ctx: CliContext, args: string[]): Promise<void> {
  const { positionals } = parse(args);
  const id = clientIdArg(positionals);
  await withServices(ctx, (services) => clientOperations(services).delete(cliActor(), id));
  ctx.out(ctx.json ? JSON.stringify({ deleted: id }) : `deleted client ${id}; its grants and tokens are revoked`);
}

export async function clientsRotateSecret(ctx: CliContext, args: string[]): Promise<void> {
  const { positionals } = parse(args);
  const rotated = await withServices(ctx, (services) => clientOperations(services).rotateSecret(cliActor(), clientIdArg(positionals)));
  if (ctx.json) ctx.out(JSON.stringify(showCreated(rotated)));
  else ctx.out(`new client secret for ${rotated.client.clientId} (shown once): ${rotated.secret}`);
}
