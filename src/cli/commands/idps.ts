import { command, type ParsedLine } from '../command-line.ts';
import { CliError, type CliContext } from '../context.ts';
import type { FlagsOf } from '../flag-errors.ts';
import { shown } from '../../errors/shown-text.ts';
import { parseRuleLine, type RuleProblem } from '../../console/web/upstream-rules.ts';
import { privateKeyComplete, privateKeyJwk } from '../private-key-input.ts';
import { cliActor, readOperations, readStdinSecret, withOperations } from '../services.ts';

/** `gatehouse idps ...`: upstream identity providers, through the same operations as the admin API. */
const OPTIONS = {
  alias: { type: 'string' },
  kind: { type: 'string' },
  name: { type: 'string' },
  'icon-url': { type: 'string' },
  issuer: { type: 'string' },
  'authorization-endpoint': { type: 'string' },
  'token-endpoint': { type: 'string' },
  'userinfo-endpoint': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret-stdin': { type: 'boolean' },
  'private-key-stdin': { type: 'boolean' },
  'auth-method': { type: 'string' },
  scope: { type: 'string' },
  claim: { type: 'string', multiple: true },
  'role-map': { type: 'string', multiple: true },
  'group-map': { type: 'string', multiple: true },
  'mapping-mode': { type: 'string' },
  'create-accounts': { type: 'boolean' },
  'no-create-accounts': { type: 'boolean' },
  'link-by-email': { type: 'boolean' },
  'no-link-by-email': { type: 'boolean' },
  'trust-email': { type: 'boolean' },
  'no-trust-email': { type: 'boolean' },
  'allowed-domain': { type: 'string', multiple: true },
  'home-domain': { type: 'string', multiple: true },
  client: { type: 'string', multiple: true },
  'all-clients': { type: 'boolean' },
  enabled: { type: 'boolean' },
  disabled: { type: 'boolean' },
  'upstream-logout': { type: 'boolean' },
  'no-upstream-logout': { type: 'boolean' },
  'hide-on-login': { type: 'boolean' },
  'no-hide-on-login': { type: 'boolean' },
} as const;

/** What only `idps create` takes besides: where the provider's settings come from. */
const CREATE_OPTIONS = { ...OPTIONS, preset: { type: 'string' }, tenant: { type: 'string' }, 'base-url': { type: 'string' } } as const;
/** The provider a command is about: ALIAS, or --alias ALIAS. */
const ALIAS = [{ name: 'ALIAS', or: 'alias' }];
/** The user whose links a command is about. */
const USER = ['USER'];

/** The body's fields said as flags, for errors (src/cli/flag-errors.ts). */
export const IDP_FLAGS: FlagsOf = {
  alias: '--alias',
  preset: '--preset',
  tenant: '--tenant',
  base_url: '--base-url',
  kind: '--kind',
  display_name: '--name',
  icon_url: '--icon-url',
  issuer: '--issuer',
  authorization_endpoint: '--authorization-endpoint',
  token_endpoint: '--token-endpoint',
  userinfo_endpoint: '--userinfo-endpoint',
  client_id: '--client-id',
  client_secret: '--client-secret-stdin',
  private_key_jwk: '--private-key-stdin',
  token_endpoint_auth_method: '--auth-method',
  scopes: '--scope words',
  claims: '--claim',
  role_mappings: '--role-map',
  group_mappings: '--group-map',
  mapping_mode: '--mapping-mode',
  create_accounts: '--create-accounts|--no-create-accounts',
  link_by_email: '--link-by-email|--no-link-by-email',
  trust_email: '--trust-email|--no-trust-email',
  allowed_domains: '--allowed-domain',
  home_domains: '--home-domain',
  clients: '--client|--all-clients',
  enabled: '--enabled|--disabled',
  upstream_logout: '--upstream-logout|--no-upstream-logout',
  hide_on_login: '--hide-on-login|--no-hide-on-login',
};

type Values = ParsedLine<typeof OPTIONS>['values'];

const RULE_PROBLEMS: Record<Exclude<RuleProblem, 'invalid'>, string> = {
  noClaim: 'the claim before = is empty',
  noValue: 'the value between = and -> is empty',
  noName: 'the name after -> is empty',
};

/**
 * `CLAIM=VALUE->LABEL` (the console's rule text, src/console/web/upstream-rules.ts: a value and a
 * name may hold spaces, `=` and `:`, as Keycloak client roles `shop:Gift Card` do) or the earlier
 * `CLAIM=VALUE:LABEL`, split at the last colon → a mapping rule.
 */
function rule(option: string, text: string, key: 'role' | 'group'): Record<string, string> {
  const takes = `takes CLAIM=VALUE->${key.toUpperCase()} (e.g. groups=Order Admins->${key === 'role' ? 'Order Manager' : '/Sales Team'}) or CLAIM=VALUE:${key.toUpperCase()}`;
  if (text.includes('->')) {
    const parsed = parseRuleLine(text);
    if (typeof parsed === 'string') throw new CliError(`--${option} ${shown(text)}: ${parsed === 'invalid' ? takes : RULE_PROBLEMS[parsed]}`, 2);
    return { claim: parsed.claim, value: parsed.value, [key]: parsed.name };
  }
  const match = /^([^=]+)=(.+):([^:]+)$/.exec(text);
  if (match === null) throw new CliError(`--${option} ${takes}`, 2);
  return { claim: match[1]!, value: match[2]!, [key]: match[3]! };
}

function flag(values: Values, on: keyof Values, off: keyof Values): boolean | undefined {
  if (values[on] === true && values[off] === true) throw new CliError(`--${String(on)} and --${String(off)} contradict each other`, 2);
  return values[on] === true ? true : values[off] === true ? false : undefined;
}

/** Flags → the admin API's body, so both go through one schema and one audit trail. */
async function bodyFrom(ctx: CliContext, values: Values): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {};
  const text: Array<[keyof Values, string]> = [
    ['kind', 'kind'], ['name', 'display_name'], ['icon-url', 'icon_url'], ['issuer', 'issuer'],
    ['authorization-endpoint', 'authorization_endpoint'], ['token-endpoint', 'token_endpoint'], ['userinfo-endpoint', 'userinfo_endpoint'],
    ['client-id', 'client_id'], ['auth-method', 'token_endpoint_auth_method'], ['mapping-mode', 'mapping_mode'],
  ];
  for (const [option, field] of text) if (values[option] !== undefined) body[field] = values[option];
  if (values.scope !== undefined) body.scopes = values.scope.split(/\s+/).filter(Boolean);
  if (values.claim !== undefined) {
    const named = new Set<string>();
    body.claims = Object.fromEntries(
      values.claim.map((entry) => {
        const [name, claim] = entry.split('=', 2);
        if (name === undefined || claim === undefined || claim === '') throw new CliError('--claim takes ATTRIBUTE=CLAIM (e.g. username=login)', 2);
        // One claim per attribute: which of two was meant is not guessed (the last one won).
        if (named.has(name)) throw new CliError(`--claim ${name}: given more than once (one claim per attribute)`, 2);
        named.add(name);
        return [name, claim];
      }),
    );
  }
  if (values['role-map'] !== undefined) body.role_mappings = values['role-map'].map((entry) => rule('role-map', entry, 'role'));
  if (values['group-map'] !== undefined) body.group_mappings = values['group-map'].map((entry) => rule('group-map', entry, 'group'));
  if (values['allowed-domain'] !== undefined) body.allowed_domains = values['allowed-domain'];
  if (values['home-domain'] !== undefined) body.home_domains = values['home-domain'];
  if (values.client !== undefined) body.clients = values.client;
  if (values['all-clients'] === true) body.clients = null;
  const toggles: Array<[keyof Values, keyof Values, string]> = [
    ['create-accounts', 'no-create-accounts', 'create_accounts'],
    ['link-by-email', 'no-link-by-email', 'link_by_email'],
    ['trust-email', 'no-trust-email', 'trust_email'],
    ['enabled', 'disabled', 'enabled'],
    ['upstream-logout', 'no-upstream-logout', 'upstream_logout'],
    ['hide-on-login', 'no-hide-on-login', 'hide_on_login'],
  ];
  for (const [on, off, field] of toggles) {
    const value = flag(values, on, off);
    if (value !== undefined) body[field] = value;
  }
  if (values['client-secret-stdin'] === true && values['private-key-stdin'] === true) throw new CliError('read either the client secret or the private key from standard input, not both', 2);
  if (values['client-secret-stdin'] === true) body.client_secret = await readStdinSecret(ctx, '--client-secret-stdin', { prompt: 'Client secret: ' });
  if (values['private-key-stdin'] === true) {
    const typed = { prompt: 'Private key (PEM or JWK; ends at its last line, or Ctrl-D):\n', complete: privateKeyComplete };
    body.private_key_jwk = privateKeyJwk(await readStdinSecret(ctx, '--private-key-stdin', typed));
  }
  return body;
}

function aliasArg(values: { alias?: string | undefined }, positionals: string[]): string {
  const alias = values.alias ?? positionals[0];
  if (alias === undefined) throw new CliError('the provider alias is required', 2);
  return alias;
}

type Shown = { alias: string; kind: string; display_name: string; enabled: boolean; hide_on_login: boolean; redirect_uri: string; post_logout_redirect_uri: string; upstream_logout: boolean; issuer: string | null; authorization_endpoint: string | null };
const line = (idp: Shown) => `${idp.alias}  ${idp.kind}  ${idp.enabled ? 'enabled' : 'disabled'}${idp.hide_on_login ? ' (hidden on sign-in)' : ''}  "${idp.display_name}"  ${idp.issuer ?? idp.authorization_endpoint ?? '-'}  redirect URI ${idp.redirect_uri}`;

export const idpsCreate = command({ options: CREATE_OPTIONS }, async (ctx, { values }) => {
  if (values.alias === undefined) throw new CliError('--alias is required (lowercase letters, digits and dashes; it is part of the redirect URI)', 2);
  if (values['client-id'] === undefined) throw new CliError('--client-id is required (the client id this deployment has at the provider)', 2);
  const body: Record<string, unknown> = { alias: values.alias, ...(await bodyFrom(ctx, values)) };
  if (values.preset !== undefined) body.preset = values.preset;
  if (values.tenant !== undefined) body.tenant = values.tenant;
  if (values['base-url'] !== undefined) body.base_url = values['base-url'];
  const shown = await withOperations(ctx, async (ops) => ops.upstream.show(await ops.upstream.create(cliActor(), body)));
  ctx.out(ctx.json ? JSON.stringify(shown) : `created upstream provider ${line(shown)}\nregister this redirect URI at the provider: ${shown.redirect_uri}${shown.upstream_logout ? `\nand this post-logout redirect URI: ${shown.post_logout_redirect_uri}` : ''}`);
});

export const idpsList = command({ options: {} }, async (ctx) => {
  const shown = await readOperations(ctx, async (ops) => (await ops.upstream.list()).map(ops.upstream.show));
  if (ctx.json) ctx.out(JSON.stringify(shown));
  else for (const idp of shown) ctx.out(line(idp));
});

export const idpsGet = command({ options: { alias: { type: 'string' } }, arguments: ALIAS }, async (ctx, { values, positionals }) => {
  const shown = await readOperations(ctx, async (ops) => ops.upstream.show(await ops.upstream.get(aliasArg(values, positionals))));
  ctx.out(JSON.stringify(shown, null, ctx.json ? undefined : 2));
});

export const idpsUpdate = command({ options: OPTIONS, arguments: ALIAS }, async (ctx, { values, positionals }) => {
  const alias = aliasArg(values, positionals);
  const body = await bodyFrom(ctx, values);
  const shown = await withOperations(ctx, async (ops) => ops.upstream.show(await ops.upstream.update(cliActor(), alias, body)));
  ctx.out(ctx.json ? JSON.stringify(shown) : `updated upstream provider ${line(shown)}`);
});

export const idpsDelete = command({ options: { alias: { type: 'string' } }, arguments: ALIAS }, async (ctx, { values, positionals }) => {
  const alias = aliasArg(values, positionals);
  await withOperations(ctx, (ops) => ops.upstream.delete(cliActor(), alias));
  ctx.out(ctx.json ? JSON.stringify({ deleted: alias }) : `deleted upstream provider ${alias} and every link to it`);
});

/** `idps links USER`: the user's upstream links. */
export const idpsLinks = command({ options: {}, arguments: USER }, async (ctx, { positionals }) => {
  if (positionals[0] === undefined) throw new CliError('the user (id, username or email) is required: gatehouse idps links USER', 2);
  const links = await readOperations(ctx, async (ops) => ops.upstream.links((await ops.users.resolve(positionals[0]!)).id));
  if (ctx.json) ctx.out(JSON.stringify(links));
  else for (const link of links) ctx.out(`${link.provider}  ${link.subject}${link.label === null ? '' : ` (${link.label})`}  linked ${link.created_at}  last sign-in ${link.last_sign_in_at ?? '-'}`);
});

/** `idps unlink USER --provider ALIAS --subject SUB`. */
export const idpsUnlink = command({ options: { provider: { type: 'string' }, subject: { type: 'string' } }, arguments: USER }, async (ctx, { values, positionals }) => {
  if (positionals[0] === undefined || values.provider === undefined || values.subject === undefined) {
    throw new CliError('usage: gatehouse idps unlink USER --provider ALIAS --subject UPSTREAM_SUBJECT', 2);
  }
  await withOperations(ctx, async (ops) => ops.upstream.unlink(cliActor(), (await ops.users.resolve(positionals[0]!)).id, values.provider!, values.subject!));
  ctx.out(ctx.json ? JSON.stringify({ unlinked: { provider: values.provider, subject: values.subject } }) : `removed the ${values.provider} link ${values.subject}`);
});
