import { z } from 'zod';
import type { AdminRoute } from './route-table.ts';
import { ADMIN_AUTH_PROBLEMS } from './auth.ts';
import { DEFAULT_BODY_LIMIT, sizeInWords } from './json-body.ts';

/** `/clients/:clientId` → `/clients/{clientId}` */
export function openApiPath(koaPath: string): string {
  return koaPath.replace(/:([A-Za-z]+)/g, '{$1}');
}

function schemaOf(schema: z.ZodType): Record<string, unknown> {
  // Request bodies are described as callers send them: fields with defaults are optional.
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return json;
}

/** The one JSON error shape (src/errors/respond.ts). */
const ERROR_SCHEMA = {
  type: 'object',
  required: ['error', 'error_description', 'message'],
  properties: {
    error: { type: 'string', description: 'OAuth / HTTP error code: invalid_request, invalid_token, insufficient_scope, not_found, conflict, temporarily_unavailable, server_error' },
    error_description: { type: 'string' },
    message: { type: 'string', description: 'Same text as error_description (kept for earlier clients)' },
    request_id: { type: 'string' },
    code: { type: 'string', description: 'The error as a whole as a stable problem code (client_not_found, user_no_email, token_revoked, role_missing, unavailable, …; src/errors/problems.ts), for clients that say it in their reader\'s language' },
    params: { type: 'object', additionalProperties: { type: ['string', 'number'] }, description: 'The values the code\'s text names ({id: "crm"})' },
    details: {
      type: 'array',
      items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' }, code: { type: 'string', description: 'The problem\'s stable code (too_long, unknown_api, …), for clients that say it in their reader\'s language' }, params: { type: 'object', additionalProperties: { type: ['string', 'number'] }, description: 'The values the problem names ({max: 200})' } } },
    },
  },
};

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

/** A refusal at the door: the Error shape with the problem codes it can carry. */
const refusal = (description: string, codes: readonly string[]) => ({
  description,
  content: { 'application/json': { schema: { allOf: [{ $ref: '#/components/schemas/Error' }, { type: 'object', required: ['code'], properties: { code: { enum: [...codes] } } }] } } },
});

/** The OpenAPI 3.1 document, generated from the same route table and zod schemas the router uses. */
export function openApiDocument(routes: readonly AdminRoute[], adminUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    const parameters: Array<Record<string, unknown>> = [...route.path.matchAll(/:([A-Za-z]+)/g)].map((match) => ({
      name: match[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    if (route.query !== undefined) {
      const json = schemaOf(route.query) as { properties?: Record<string, unknown> };
      for (const [name, schema] of Object.entries(json.properties ?? {})) parameters.push({ name, in: 'query', required: false, schema });
    }
    const status = String(route.status ?? 200);
    const responses: Record<string, unknown> = {
      [status]:
        status === '204'
          ? { description: 'Done' }
          : { description: 'OK', content: { 'application/json': { schema: route.list === true ? { type: 'array', items: { type: 'object' } } : { type: 'object' } } } },
      '400': errorResponse('Invalid request; `details` lists each problem with its field path'),
      '401': refusal('Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer error="invalid_token"`); `code` says which', ADMIN_AUTH_PROBLEMS[401]),
      '403': refusal('The token lacks the admin scope, or its principal is not an administrator (`error: insufficient_scope`); `code` says which', ADMIN_AUTH_PROBLEMS[403]),
    };
    if (route.body !== undefined) {
      const limit = typeof route.bodyLimit === 'object' ? route.bodyLimit : { bytes: route.bodyLimit ?? DEFAULT_BODY_LIMIT, tooLarge: undefined };
      responses['413'] = refusal(`The body is larger than ${sizeInWords(limit.bytes)} (the connection is closed with the answer)`, [limit.tooLarge ?? 'body_too_large']);
    }
    if (route.notFound === true) responses['404'] = errorResponse('No such object');
    if (route.conflict === true) responses['409'] = errorResponse('Conflicts with an existing object');
    responses['503'] = errorResponse('A store (MongoDB or Redis) is unavailable; retry after the `Retry-After` seconds');
    const operation: Record<string, unknown> = {
      operationId: `${route.method}${route.path.replace(/[/:-]+(\w)/g, (_m, c: string) => c.toUpperCase())}`,
      tags: [route.tag],
      summary: route.summary,
      security: [{ bearer: [] }],
      responses,
    };
    if (parameters.length > 0) operation.parameters = parameters;
    if (route.body !== undefined) {
      operation.requestBody = { required: route.optionalBody !== true, content: { 'application/json': { schema: schemaOf(route.body) } } };
    }
    paths[path] ??= {};
    paths[path][route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Gatehouse admin API',
      version: '1',
      description: `Manage clients, users, APIs, roles, groups, keys and audit events. Authenticate with a Gatehouse access token for the audience ${adminUrl} carrying the admin scope.`,
    },
    servers: [{ url: adminUrl }],
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}
