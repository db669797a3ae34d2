import { expect } from 'chai';
import { PROBLEM_CODES, problemText, type ProblemCode } from '../../src/errors/problems.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin, type ApiResponse } from '../helpers/admin.ts';
import { startInstance } from '../helpers/instance.ts';
import { freePort } from '../helpers/redis-server.ts';
import { emptyDatabaseUri, randomSecret, recycleDatabase, serviceUrls } from '../helpers/stores.ts';

/**
 * Every admin API route with bad input, driven by the API's own OpenAPI document (so a new
 * route or field is covered without editing this file): each field with a value of the wrong
 * type, a string too long, an unknown field, a number that is not one (NaN) or not whole in the
 * query, ids that name nothing. Each answer must name the field (or the error as a whole) with a
 * problem code whose English text is the message: never zod's own wording.
 */

type JsonSchema = { type?: string | string[]; anyOf?: JsonSchema[]; properties?: Record<string, JsonSchema>; additionalProperties?: unknown; maxLength?: number; items?: JsonSchema; enum?: unknown[] };
type Operation = { parameters?: Array<{ name: string; in: string; schema: JsonSchema }>; requestBody?: { content: { 'application/json': { schema: JsonSchema } } }; responses: Record<string, unknown> };

/** What zod says in its own words; none of it may reach a caller. */
const ZOD_WORDING = /Invalid input|Invalid option|Invalid string|expected \w+, received|received NaN|Too (big|small)|Unrecognized key|Invalid element/i;

/** A schema's type, looking through nullable (anyOf [T, null]). */
function typeOf(schema: JsonSchema): string | undefined {
  if (typeof schema.type === 'string') return schema.type;
  if (Array.isArray(schema.type)) return schema.type.find((type) => type !== 'null');
  return schema.anyOf?.map(typeOf).find((type) => type !== undefined && type !== 'null');
}

/** A JSON value that is not of `type`. */
function wrongValue(type: string): unknown {
  switch (type) {
    case 'string':
      return 12345;
    case 'integer':
    case 'number':
      return 'abc';
    case 'boolean':
      return 'yes';
    case 'array':
      return 'not-a-list';
    default:
      return 5;
  }
}

/** Every answer's problems come with codes, their messages from the codes, and none in zod's words. */
function expectCoded(response: ApiResponse, what: string): void {
  const { body } = response;
  expect(body, what).to.be.an('object');
  expect(body.error_description, what).to.not.match(ZOD_WORDING);
  const details = (body.details ?? []) as Array<{ path: string; message: string; code?: ProblemCode; params?: Record<string, string | number> }>;
  if (details.length === 0) {
    expect(PROBLEM_CODES, `${what}: ${JSON.stringify(body)}`).to.include(body.code);
    expect(body.error_description, what).to.equal(problemText(body.code as ProblemCode, body.params));
  }
  for (const detail of details) {
    expect(PROBLEM_CODES, `${what}: ${JSON.stringify(detail)}`).to.include(detail.code);
    expect(detail.message, what).to.equal(problemText(detail.code!, detail.params));
  }
}

describe('admin API: every route with bad input answers named problems with codes (never zod\'s words)', function () {
  this.timeout(300_000);
  let mongodbUri: string;
  let gatehouse: RunningGatehouse;
  let token: string;
  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);
  /** The real objects path parameters name (so a body is checked, not refused as a 404 first). */
  let ids: Record<string, string>;
  let operations: Array<{ method: string; path: string; operation: Operation }>;

  const concrete = (path: string, tag: unknown, known: boolean) =>
    path.replace(/\{(\w+)\}/g, (_match, name: string) => {
      if (!known) return encodeURIComponent(`no-such-${name.toLowerCase()}`);
      const key = name === 'name' ? (tag === 'groups' ? 'group' : 'role') : name;
      return encodeURIComponent(ids[key] ?? `no-such-${name.toLowerCase()}`);
    });

  before(async () => {
    mongodbUri = emptyDatabaseUri('admin_bad_input');
    const port = await freePort();
    gatehouse = await startInstance({
      issuer: `http://127.0.0.1:${port}`,
      mongodbUri,
      redisUrl: serviceUrls().redisUrl,
      secret: randomSecret(),
      settings: { PORT: String(port), GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1', GATEHOUSE_REGISTRATION: 'true' },
    });
    token = await (await adminClient(gatehouse)).token();
    const api = await call('POST', '/apis', { identifier: 'https://bad-input.example.com', scopes: ['read'] });
    const client = await call('POST', '/clients', { name: 'Bad input', redirect_uris: ['https://app.example.com/cb'] });
    const user = await call('POST', '/users', { username: 'bad-input', password: 'a long enough password' });
    const role = await call('POST', '/roles', { name: 'bad-input-role' });
    const group = await call('POST', '/groups', { name: 'bad-input-group' });
    const upstream = await call('POST', '/upstream-providers', { alias: 'bad-input', preset: 'google', client_id: 'x', client_secret: 'y' });
    for (const created of [api, client, user, role, group, upstream]) expect(created.status, JSON.stringify(created.body)).to.equal(201);
    ids = { identifier: api.body.identifier, clientId: client.body.client_id, userId: user.body.id, role: 'bad-input-role', group: 'bad-input-group', alias: 'bad-input' };
    const document = (await call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, Operation>> };
    operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })));
  });
  after(async () => {
    await gatehouse.close();
    await recycleDatabase(mongodbUri);
  });

  it('covers the routes (the OpenAPI document lists them all)', () => {
    expect(operations.length).to.be.greaterThan(60);
    expect(operations.filter(({ operation }) => operation.requestBody !== undefined).length).to.be.greaterThan(15);
  });

  it('a field of the wrong type: 400 naming the field, e.g. "access_token_ttl: must be a number"', async () => {
    let checked = 0;
    for (const { method, path, operation } of operations) {
      const schema = operation.requestBody?.content['application/json'].schema;
      for (const [field, property] of Object.entries(schema?.properties ?? {})) {
        const type = typeOf(property);
        if (type === undefined) continue;
        const response = await call(method, concrete(path, (operation as { tags?: string[] }).tags?.[0], true), { [field]: wrongValue(type) });
        const what = `${method} ${path} {${field}: ${JSON.stringify(wrongValue(type))}}`;
        expect(response.status, `${what}: ${JSON.stringify(response.body)}`).to.equal(400);
        expectCoded(response, what);
        const detail = (response.body.details as Array<{ path: string; code: string }>).find((one) => one.path === field);
        expect(detail, `${what}: ${JSON.stringify(response.body.details)}`).to.not.equal(undefined);
        checked += 1;
      }
    }
    expect(checked).to.be.greaterThan(100);
  });

  it('a whole number given as 1.5, and a string longer than its maximum: 400 not_integer / too_long with the limit', async () => {
    let checked = 0;
    for (const { method, path, operation } of operations) {
      const schema = operation.requestBody?.content['application/json'].schema;
      for (const [field, property] of Object.entries(schema?.properties ?? {})) {
        const type = typeOf(property);
        const plain = property.anyOf?.find((one) => one.type === type) ?? property;
        const value = type === 'integer' ? 1.5 : type === 'string' && plain.maxLength !== undefined && plain.enum === undefined ? 'x'.repeat(plain.maxLength + 1) : undefined;
        if (value === undefined) continue;
        const response = await call(method, concrete(path, (operation as { tags?: string[] }).tags?.[0], true), { [field]: value });
        const what = `${method} ${path} ${field}`;
        expect(response.status, `${what}: ${JSON.stringify(response.body)}`).to.equal(400);
        expectCoded(response, what);
        const detail = (response.body.details as Array<{ path: string; code: string; params?: { max?: number } }>).find((one) => one.path === field);
        expect(detail?.code, `${what}: ${JSON.stringify(response.body.details)}`).to.be.oneOf(type === 'integer' ? ['not_integer', 'one_of'] : ['too_long', 'bad_format', 'client_id_format', 'alias', 'tenant']);
        if (detail?.code === 'too_long') expect(detail.params?.max).to.equal(plain.maxLength);
        checked += 1;
      }
    }
    expect(checked).to.be.greaterThan(20);
  });

  it('an unknown field: 400 unknown_field naming it', async () => {
    let checked = 0;
    for (const { method, path, operation } of operations) {
      const schema = operation.requestBody?.content['application/json'].schema;
      if (schema?.additionalProperties !== false) continue;
      const response = await call(method, concrete(path, (operation as { tags?: string[] }).tags?.[0], true), { no_such_field: 1 });
      const what = `${method} ${path}`;
      expect(response.status, `${what}: ${JSON.stringify(response.body)}`).to.equal(400);
      expectCoded(response, what);
      expect(response.body.details, what).to.deep.include({ path: 'no_such_field', message: 'unknown field', code: 'unknown_field' });
      checked += 1;
    }
    expect(checked).to.be.greaterThan(15);
  });

  it('a query number that is not one (NaN) or not whole: 400 not_number / not_integer naming the parameter', async () => {
    let checked = 0;
    for (const { method, path, operation } of operations) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in !== 'query' || !['integer', 'number'].includes(typeOf(parameter.schema) ?? '')) continue;
        for (const [value, code] of [['abc', 'not_number'], ['1.5', 'not_integer'], ['-1', 'too_small']] as const) {
          const response = await call(method, `${concrete(path, undefined, true)}?${parameter.name}=${value}`);
          const what = `${method} ${path}?${parameter.name}=${value}`;
          expect(response.status, `${what}: ${JSON.stringify(response.body)}`).to.equal(400);
          expectCoded(response, what);
          expect(response.body.details[0], what).to.deep.include({ path: parameter.name, code });
          checked += 1;
        }
      }
    }
    expect(checked).to.be.greaterThan(12);
  });

  it('ids that name nothing: 404 (or 400 for a body it cannot read) with the error as a whole named by code, e.g. client_not_found {id}', async () => {
    let checked = 0;
    for (const { method, path, operation } of operations) {
      if (!path.includes('{') || operation.responses['404'] === undefined) continue;
      const response = await call(method, concrete(path, undefined, false), operation.requestBody === undefined ? undefined : {});
      const what = `${method} ${path}`;
      expect(response.status, `${what}: ${JSON.stringify(response.body)}`).to.be.oneOf([400, 404]);
      expectCoded(response, what);
      checked += 1;
    }
    expect(checked).to.be.greaterThan(30);
    const missing = await call('GET', '/clients/no-such-client');
    expect(missing.body).to.deep.include({ error: 'not_found', error_description: 'client no-such-client does not exist', code: 'client_not_found', params: { id: 'no-such-client' } });
    const route = await call('GET', '/no-such-route');
    expect(route.body).to.deep.include({ code: 'route_not_found', params: { method: 'GET', path: '/admin/api/v1/no-such-route' } });
  });

  it('a body that is not JSON, or not declared as JSON: 400 not_json_at (where it breaks) / not_json_content_type', async () => {
    const headers = { authorization: `Bearer ${token}` };
    const notJson = await fetch(`${gatehouse.url}/admin/api/v1/roles`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"name":' });
    const notJsonBody = { status: notJson.status, body: await notJson.json(), headers: notJson.headers } as ApiResponse;
    expect(notJsonBody.status).to.equal(400);
    expectCoded(notJsonBody, 'not JSON');
    // The body as a whole is at fault, not a field: named as the error's own code (no detail with an empty path).
    expect(notJsonBody.body).to.deep.include({
      error: 'invalid_request',
      error_description: 'the request body is not valid JSON at line 1, column 9: the body ends there, before its JSON does (cut short)',
      code: 'not_json_at',
      params: { line: 1, column: 9, reason: 'the body ends there, before its JSON does (cut short)' },
    });
    expect(notJsonBody.body).to.not.have.property('details');
    const text = await fetch(`${gatehouse.url}/admin/api/v1/roles`, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: 'name=x' });
    expect(text.status).to.equal(400);
    const textBody = (await text.json()) as Record<string, unknown>;
    expect(textBody).to.deep.include({ error: 'invalid_request', error_description: 'the request body must be JSON (Content-Type: application/json)', code: 'not_json_content_type' });
    expect(textBody).to.not.have.property('details');
  });

  it('a body is read as UTF-8: a leading byte-order mark is taken, bytes that are not UTF-8 are 400 not_utf8 (never turned into U+FFFD)', async () => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const name = `bom-role-${Date.now().toString(36)}`;
    const bom = await fetch(`${gatehouse.url}/admin/api/v1/roles`, { method: 'POST', headers, body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ name }))]) });
    expect(bom.status, await bom.clone().text()).to.equal(201);
    // "José" in Latin-1: 0xE9 alone is no UTF-8.
    const latin1 = Buffer.from(`{"name":"jos\u00e9-${name}"}`, 'latin1');
    const bad = await fetch(`${gatehouse.url}/admin/api/v1/roles`, { method: 'POST', headers, body: latin1 });
    expect(bad.status).to.equal(400);
    expect(await bad.json()).to.deep.include({ error: 'invalid_request', code: 'not_utf8', error_description: 'the request body is not UTF-8 text (JSON is always UTF-8: save the file as UTF-8)' });
    const listed = await call('GET', '/roles');
    expect(JSON.stringify(listed.body)).to.not.include(`-${name}`).and.not.include('\\ufffd');
  });

  it('conflicts without a field are named as a whole: a second verification mail to a user without email is user_no_email', async () => {
    const response = await call('POST', `/users/${ids.userId}/email-verification`);
    expect(response.status).to.equal(409);
    expectCoded(response, 'email-verification');
    expect(response.body.code).to.be.oneOf(['user_no_email', 'mail_not_configured']);
  });
});
