import { parseArgs } from 'node:util';
import { ZodError } from 'zod';
import { apiModel } from '../../apis/model.ts';
import { ApiConflictError, createApiRegistry, type Api } from '../../apis/registry.ts';
import { CliError, type CliContext } from '../context.ts';

function show(api: Api) {
  return {
    identifier: api.identifier,
    name: api.name,
    scopes: api.scopes,
    format: api.format,
    alg: api.alg,
    access_token_ttl: api.accessTokenTtl,
    include_roles: api.includeRoles,
    include_groups: api.includeGroups,
    client_id: api.clientId ?? null,
  };
}

export function zodMessage(error: ZodError): string {
  return error.issues.map((issue) => `--${String(issue.path[0] ?? 'input').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${issue.message}`).join('; ');
}

export async function apisCreate(ctx: CliContext, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      identifier: { type: 'string' },
      name: { type: 'string' },
      scope: { type: 'string', default: '' },
      format: { type: 'string', default: 'jwt' },
      alg: { type: 'string', default: 'RS256' },
      ttl: { type: 'string' },
      roles: { type: 'boolean', default: false },
      groups: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  if (values.identifier === undefined) throw new CliError('--identifier is required (the API\'s URI, used as the token audience)', 2);
  const registry = createApiRegistry({ model: apiModel(ctx.mongo) });
  try {
    const api = await registry.create({
      identifier: values.identifier,
      ...(values.name === undefined ? {} : { name: values.name }),
      scopes: values.scope.split(/\s+/).filter(Boolean),
      format: values.format as 'jwt',
      alg: values.alg as 'RS256',
      ...(values.ttl === undefined ? {} : { accessTokenTtl: Number(values.ttl) }),
      includeRoles: values.roles,
      includeGroups: values.groups,
    });
    ctx.out(ctx.json ? JSON.stringify(show(api)) : `created API ${api.identifier} (${api.format}, ${api.alg}) scopes: ${api.scopes.join(' ') || '-'}`);
  } catch (error) {
    if (error instanceof ZodError) throw new CliError(zodMessage(error), 2);
    if (error instanceof ApiConflictError) throw new CliError(error.message, 1);
    throw error;
  }
}

export async function apisList(ctx: CliContext): Promise<void> {
  const apis = await createApiRegistry({ model: apiModel(ctx.mongo) }).list();
  if (ctx.json) ctx.out(JSON.stringify(apis.map(show)));
  else for (const api of apis) ctx.out(`${api.identifier}  ${api.format}  ${api.alg}  ${api.scopes.join(' ')}`);
}
