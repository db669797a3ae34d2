import { showClaimScope } from '../../claims/spec.ts';
import { command, type CommandLine, type ParsedLine } from '../command-line.ts';
import { CliError } from '../context.ts';
import type { FlagsOf } from '../flag-errors.ts';
import { cliActor, readOperations, withOperations } from '../services.ts';

const OPTIONS = {
  description: { type: 'string' },
  'description-ru': { type: 'string' },
  'description-zh-cn': { type: 'string' },
  'description-ko': { type: 'string' },
  map: { type: 'string', multiple: true },
  'map-list': { type: 'string', multiple: true },
  hardcoded: { type: 'string', multiple: true },
  'json-type': { type: 'string', multiple: true },
  into: { type: 'string' },
  'no-mappers': { type: 'boolean' },
} as const;

const USES = ['id_token', 'userinfo', 'access_token', 'introspection'] as const;

/** The body's fields said as flags, for errors (src/cli/flag-errors.ts). */
export const CLAIM_SCOPE_FLAGS: FlagsOf = {
  name: 'NAME',
  'description.en': '--description',
  'description.ru': '--description-ru',
  'description.zh-CN': '--description-zh-cn',
  'description.ko': '--description-ko',
  mappers: '--map|--map-list|--hardcoded',
};

const ONE: CommandLine<typeof OPTIONS> = { options: OPTIONS, arguments: ['NAME'] };

/** `ATTRIBUTE` or `ATTRIBUTE=CLAIM` (the claim is named after the attribute unless said). */
function attributeMapper(spec: string, multivalued: boolean, into: Record<string, boolean>) {
  const equals = spec.indexOf('=');
  const attribute = equals < 0 ? spec : spec.slice(0, equals);
  const claim = equals < 0 ? spec : spec.slice(equals + 1);
  return { type: 'user_attribute', attribute, claim, multivalued, ...into };
}

/** `CLAIM=VALUE`: the value as typed (a text). */
function hardcodedMapper(spec: string, into: Record<string, boolean>) {
  const equals = spec.indexOf('=');
  if (equals <= 0) throw new CliError(`--hardcoded ${JSON.stringify(spec)}: expected CLAIM=VALUE`, 2);
  return { type: 'hardcoded', claim: spec.slice(0, equals), value: spec.slice(equals + 1), ...into };
}

/**
 * `--into id_token,userinfo,access_token,introspection` for every mapper of the command (default:
 * all; without --into, introspection follows access_token as in the admin API).
 */
function intoFrom(value: string | undefined): Record<string, boolean> {
  if (value === undefined) return {};
  const named = value.split(/[,\s]+/).filter(Boolean);
  const unknown = named.filter((use) => !(USES as readonly string[]).includes(use));
  if (unknown.length > 0 || named.length === 0) throw new CliError(`--into: one or more of ${USES.join(', ')} (not ${JSON.stringify(unknown.join(',') || value)})`, 2);
  return Object.fromEntries(USES.map((use) => [use, named.includes(use)]));
}

/** Flags → the admin API's body. Mappers given replace the scope's list; --no-mappers empties it. */
function bodyFrom(values: ParsedLine<typeof OPTIONS>['values']): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const description: Record<string, string> = {};
  if (values.description !== undefined) description.en = values.description;
  if (values['description-ru'] !== undefined) description.ru = values['description-ru'];
  if (values['description-zh-cn'] !== undefined) description['zh-CN'] = values['description-zh-cn'];
  if (values['description-ko'] !== undefined) description.ko = values['description-ko'];
  if (Object.keys(description).length > 0) body.description = description;
  const into = intoFrom(values.into);
  const mappers: Array<Record<string, unknown>> = [
    ...(values.map ?? []).map((spec) => attributeMapper(spec, false, into)),
    ...(values['map-list'] ?? []).map((spec) => attributeMapper(spec, true, into)),
    ...(values.hardcoded ?? []).map((spec) => hardcodedMapper(spec, into)),
  ];
  for (const spec of values['json-type'] ?? []) {
    // CLAIM=TYPE: the claim of a --map or --map-list of this command (claim names hold no `=`).
    const equals = spec.lastIndexOf('=');
    const claim = spec.slice(0, Math.max(0, equals));
    const mapper = mappers.find((one) => one.type === 'user_attribute' && one.claim === claim);
    if (equals <= 0 || mapper === undefined) throw new CliError(`--json-type ${JSON.stringify(spec)}: expected CLAIM=TYPE for the claim of a --map or --map-list`, 2);
    mapper.json_type = spec.slice(equals + 1);
  }
  if (values['no-mappers'] === true) body.mappers = [];
  else if (mappers.length > 0) body.mappers = mappers;
  return body;
}

function nameArg(positionals: string[]): string {
  const name = positionals[0];
  if (name === undefined) throw new CliError('the claim scope\'s NAME is required', 2);
  return name;
}

const line = (scope: ReturnType<typeof showClaimScope>) =>
  `${scope.name}  ${scope.mappers.map((mapper) => `${mapper.claim}${mapper.type === 'user_attribute' ? `←${mapper.attribute}${mapper.multivalued ? '[]' : ''}` : '=' + JSON.stringify(mapper.value)}`).join(' ') || '-'}`;

export const claimScopesCreate = command(ONE, async (ctx, { values, positionals }) => {
  const body = { name: nameArg(positionals), ...bodyFrom(values) };
  const scope = await withOperations(ctx, (ops) => ops.claimScopes.create(cliActor(), body));
  ctx.out(ctx.json ? JSON.stringify(showClaimScope(scope)) : `created claim scope ${line(showClaimScope(scope))}`);
});

export const claimScopesList = command({ options: {} }, async (ctx) => {
  const scopes = await readOperations(ctx, (ops) => ops.claimScopes.list());
  if (ctx.json) ctx.out(JSON.stringify(scopes.map(showClaimScope)));
  else for (const scope of scopes) ctx.out(line(showClaimScope(scope)));
});

export const claimScopesGet = command({ options: {}, arguments: ['NAME'] }, async (ctx, { positionals }) => {
  const scope = await readOperations(ctx, (ops) => ops.claimScopes.get(nameArg(positionals)));
  ctx.out(JSON.stringify(showClaimScope(scope), null, ctx.json ? undefined : 2));
});

export const claimScopesUpdate = command(ONE, async (ctx, { values, positionals }) => {
  const name = nameArg(positionals);
  const body = bodyFrom(values);
  if (Object.keys(body).length === 0) throw new CliError('nothing to change: pass --description…, --map, --map-list, --hardcoded or --no-mappers', 2);
  const scope = await withOperations(ctx, (ops) => ops.claimScopes.update(cliActor(), name, body));
  ctx.out(ctx.json ? JSON.stringify(showClaimScope(scope)) : `updated claim scope ${line(showClaimScope(scope))}`);
});

export const claimScopesDelete = command({ options: {}, arguments: ['NAME'] }, async (ctx, { positionals }) => {
  const name = nameArg(positionals);
  await withOperations(ctx, (ops) => ops.claimScopes.delete(cliActor(), name));
  ctx.out(ctx.json ? JSON.stringify({ deleted: name }) : `deleted claim scope ${name}`);
});
