import { readFileSync } from 'node:fs';
import { clientUpdateSchema } from '../../clients/spec.ts';
import { showClient, showCreated } from '../../operations/clients.ts';
import { command, type ParsedLine } from '../command-line.ts';
import { CliError } from '../context.ts';
import type { FlagsOf } from '../flag-errors.ts';
import { fileProblem } from '../file-problem.ts';
import { shown, typed } from '../help.ts';
import { cliActor, readOperations, withOperations } from '../services.ts';

const CLIENT_OPTIONS = {
  name: { type: 'string' },
  type: { type: 'string' },
  'application-type': { type: 'string' },
  'client-id': { type: 'string' },
  'auth-method': { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  'grant-type': { type: 'string', multiple: true },
  scope: { type: 'string' },
  'default-scopes': { type: 'string' },
  api: { type: 'string', multiple: true },
  'default-api': { type: 'string' },
  'api-scope': { type: 'string', multiple: true },
  'web-origin': { type: 'string', multiple: true },
  jwks: { type: 'string' },
  'jwks-file': { type: 'string' },
  'jwks-uri': { type: 'string' },
  'logo-uri': { type: 'string' },
  'client-uri': { type: 'string' },
  'policy-uri': { type: 'string' },
  'tos-uri': { type: 'string' },
  'backchannel-logout-uri': { type: 'string' },
  'backchannel-logout-session-required': { type: 'boolean' },
  'first-party': { type: 'boolean' },
  'no-first-party': { type: 'boolean' },
  admin: { type: 'boolean' },
  'no-admin': { type: 'boolean' },
  'require-pkce': { type: 'boolean' },
  'no-require-pkce': { type: 'boolean' },
  'require-mfa': { type: 'boolean' },
  'no-require-mfa': { type: 'boolean' },
  'minimal-id-token': { type: 'boolean' },
  'no-minimal-id-token': { type: 'boolean' },
  'login-uses-default-api': { type: 'boolean' },
  'no-login-uses-default-api': { type: 'boolean' },
  'allow-password-grant': { type: 'boolean' },
  'no-allow-password-grant': { type: 'boolean' },
  'exchange-api': { type: 'string', multiple: true },
  'exchange-trust': { type: 'string', multiple: true },
  'no-token-exchange': { type: 'boolean' },
  'token-claims': { type: 'string' },
  'userinfo-signed-response-alg': { type: 'string' },
  'service-account-role': { type: 'string', multiple: true },
  unset: { type: 'string', multiple: true },
} as const;

const LIST_OPTIONS = { query: { type: 'string' }, limit: { type: 'string' }, offset: { type: 'string' } } as const;
/** The client a command is about. */
const CLIENT_ID = ['CLIENT_ID'];

/** String flags → body fields, for fields the body takes as they are. */
const STRING_FIELDS: Record<string, string> = {
  name: 'name',
  type: 'type',
  'application-type': 'application_type',
  'client-id': 'client_id',
  'auth-method': 'token_endpoint_auth_method',
  'redirect-uri': 'redirect_uris',
  'post-logout-redirect-uri': 'post_logout_redirect_uris',
  'grant-type': 'grant_types',
  scope: 'scope',
  api: 'apis',
  'default-api': 'default_api',
  'web-origin': 'web_origins',
  'jwks-uri': 'jwks_uri',
  'logo-uri': 'logo_uri',
  'client-uri': 'client_uri',
  'policy-uri': 'policy_uri',
  'tos-uri': 'tos_uri',
  'backchannel-logout-uri': 'backchannel_logout_uri',
  'token-claims': 'token_claims',
  'userinfo-signed-response-alg': 'userinfo_signed_response_alg',
  'service-account-role': 'service_account_roles',
};

/** --flag / --no-flag pairs → boolean body fields. */
const SWITCHES: Record<string, string> = {
  'first-party': 'first_party',
  admin: 'admin',
  'require-pkce': 'require_pkce',
  'require-mfa': 'require_mfa',
  'minimal-id-token': 'minimal_id_token',
  'login-uses-default-api': 'login_uses_default_api',
  'allow-password-grant': 'allow_password_grant',
};

/** The body's fields said as flags, for errors (src/cli/flag-errors.ts): the tables above inverted, and the rest. */
export const CLIENT_FLAGS: FlagsOf = {
  ...Object.fromEntries(Object.entries(STRING_FIELDS).map(([flag, field]) => [field, `--${flag}`])),
  ...Object.fromEntries(Object.entries(SWITCHES).map(([flag, field]) => [field, `--${flag}|--no-${flag}`])),
  backchannel_logout_session_required: '--backchannel-logout-session-required',
  default_scopes: '--default-scopes',
  api_scopes: '--api-scope',
  'token_exchange.apis': '--exchange-api',
  'token_exchange.trusted_clients': '--exchange-trust',
  token_exchange: '--exchange-api|--exchange-trust|--no-token-exchange',
  jwks: '--jwks|--jwks-file',
  q: '--query',
  limit: '--limit',
  offset: '--offset',
  grace_seconds: '--grace',
};

type Values = ParsedLine<typeof CLIENT_OPTIONS>['values'];

/** The fields `--unset` removes: those a client update may set to null (src/clients/spec.ts). */
function unsettable(): string[] {
  return Object.entries(clientUpdateSchema.shape)
    .filter(([, schema]) => schema.safeParse(null).success)
    .map(([field]) => field);
}

function jwksFrom(values: Values): unknown {
  if (values.jwks !== undefined && values['jwks-file'] !== undefined) throw new CliError('give --jwks or --jwks-file, not both', 2);
  const text = values['jwks-file'] === undefined ? values.jwks : readText(values['jwks-file']);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliError('--jwks: not valid JSON (a JWK set: {"keys":[...]})', 2);
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`--jwks-file ${typed(path)}: cannot read it (${fileProblem(error)})`, 2);
  }
}

/** `--api-scope "https://api.example.com read write"` → { api, scopes }. */
function apiScopes(entries: readonly string[]): Array<{ api: string; scopes: string[] }> {
  return entries.map((entry) => {
    const [api, ...scopes] = entry.trim().split(/\s+/);
    if (api === undefined || api === '') throw new CliError('--api-scope takes "API_IDENTIFIER scope scope..."', 2);
    return { api, scopes };
  });
}

/** Flags → the admin API's body, so both go through one schema and one audit trail. */
function specFrom(values: Values): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  const flags = values as Record<string, unknown>;
  for (const [flag, field] of Object.entries(STRING_FIELDS)) if (flags[flag] !== undefined) spec[field] = flags[flag];
  for (const [flag, field] of Object.entries(SWITCHES)) {
    if (flags[flag] === true && flags[`no-${flag}`] === true) throw new CliError(`give --${flag} or --no-${flag}, not both`, 2);
    if (flags[flag] === true) spec[field] = true;
    if (flags[`no-${flag}`] === true) spec[field] = false;
  }
  if (values['backchannel-logout-session-required'] === true) spec.backchannel_logout_session_required = true;
  // Space-separated, as --scope; an empty value: none (not even the built-in ones a Keycloak-claims client has).
  if (values['default-scopes'] !== undefined) spec.default_scopes = values['default-scopes'].split(/\s+/).filter((scope) => scope !== '');
  if (values['api-scope'] !== undefined) spec.api_scopes = apiScopes(values['api-scope']);
  if (values['exchange-api'] !== undefined || values['exchange-trust'] !== undefined) {
    spec.token_exchange = { apis: values['exchange-api'] ?? [], trusted_clients: values['exchange-trust'] ?? [] };
  }
  if (values['no-token-exchange'] === true) spec.token_exchange = null;
  const jwks = jwksFrom(values);
  if (jwks !== undefined) spec.jwks = jwks;
  // --unset logo_uri (or logo-uri): removes an optional field. The name is looked up among the
  // fields, never set as a property (`__proto__` would replace the object's prototype).
  for (const name of values.unset ?? []) {
    const field = name.replaceAll('-', '_');
    if (!unsettable().includes(field)) throw new CliError(`--unset ${shown(name)}: not a field that can be unset (one of ${unsettable().join(', ')})`, 2);
    spec[field] = null;
  }
  return spec;
}

function clientIdArg(positionals: string[]): string {
  const id = positionals[0];
  if (id === undefined) throw new CliError('the client id is required, e.g. gatehouse clients get CLIENT_ID', 2);
  return id;
}

export const clientsCreate = command({ options: CLIENT_OPTIONS }, async (ctx, { values }) => {
  if (values.name === undefined) throw new CliError('--name is required', 2);
  if (values.unset !== undefined) throw new CliError('--unset is for clients update', 2);
  const spec = specFrom(values);
  const created = await withOperations(ctx, (ops) => ops.clients.create(cliActor(), spec));
  if (ctx.json) {
    ctx.out(JSON.stringify({ client_id: created.client.clientId, ...(created.secret === undefined ? {} : { client_secret: created.secret }) }));
    return;
  }
  ctx.out(`created client ${created.client.clientId}`);
  if (created.secret !== undefined) ctx.out(`client secret (shown once): ${created.secret}`);
});

export const clientsList = command({ options: LIST_OPTIONS }, async (ctx, { values }) => {
  const page = await readOperations(ctx, (ops) => ops.clients.page({ q: values.query, limit: values.limit, offset: values.offset }));
  const clients = page.items;
  if (ctx.json) ctx.out(JSON.stringify(clients.map(showClient)));
  else for (const client of clients) ctx.out(`${client.clientId}  ${client.displayName}${client.admin ? '  [admin]' : ''}`);
});

export const clientsGet = command({ options: {}, arguments: CLIENT_ID }, async (ctx, { positionals }) => {
  const client = await readOperations(ctx, (ops) => ops.clients.get(clientIdArg(positionals)));
  ctx.out(JSON.stringify(showClient(client), null, ctx.json ? undefined : 2));
});

export const clientsUpdate = command({ options: CLIENT_OPTIONS, arguments: CLIENT_ID }, async (ctx, { values, positionals }) => {
  const spec = specFrom(values);
  const client = await withOperations(ctx, (ops) => ops.clients.update(cliActor(), clientIdArg(positionals), spec));
  ctx.out(ctx.json ? JSON.stringify(showClient(client)) : `updated client ${client.clientId}`);
});

export const clientsDelete = command({ options: {}, arguments: CLIENT_ID }, async (ctx, { positionals }) => {
  const id = clientIdArg(positionals);
  await withOperations(ctx, (ops) => ops.clients.delete(cliActor(), id));
  ctx.out(ctx.json ? JSON.stringify({ deleted: id }) : `deleted client ${id}; its grants and tokens are revoked`);
});

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `--grace`: whole seconds, or a number with s, m, h or d (`90s`, `30m`, `12h`, `7d`). */
function graceSeconds(value: string): number {
  const match = /^(\d{1,9})([smhd]?)$/.exec(value);
  if (match === null) throw new CliError('--grace: a duration such as 3600, 30m, 12h or 7d (at most 30d)', 2);
  return Number(match[1]) * DURATION_UNITS[match[2] || 's']!;
}

/** `clients rotate-secret ID [--grace DURATION]`: a new secret; with --grace the old one keeps authenticating that long. */
export const clientsRotateSecret = command({ options: { grace: { type: 'string' } }, arguments: CLIENT_ID }, async (ctx, { values, positionals }) => {
  const body = values.grace === undefined ? {} : { grace_seconds: graceSeconds(values.grace) };
  const rotated = await withOperations(ctx, (ops) => ops.clients.rotateSecret(cliActor(), clientIdArg(positionals), body));
  if (ctx.json) ctx.out(JSON.stringify(showCreated(rotated)));
  else {
    const until = rotated.client.previousSecretExpiresAt;
    ctx.out(`new client secret for ${rotated.client.clientId} (shown once): ${rotated.secret}${until === undefined ? '' : `\nthe previous secret keeps working until ${until.toISOString()}`}`);
  }
});
