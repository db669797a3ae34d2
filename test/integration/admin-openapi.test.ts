import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { openApiPath } from '../../src/admin/openapi.ts';
import { gatehouseRoutes } from '../../src/routes/table.ts';

const ADMIN_BASE_PATH = gatehouseRoutes('http://localhost:3000').admin;
import { adminRouter } from '../../src/admin/router.ts';
import { adminRoutes } from '../../src/admin/routes.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createOperations } from '../../src/operations/index.ts';
import { callAdmin } from '../helpers/admin.ts';
import { startInstance } from '../helpers/instance.ts';
import { emptyDatabaseUri, randomSecret, recycleDatabase } from '../helpers/stores.ts';

describe('admin API OpenAPI document', () => {
  let mongodbUri: string;
  let gatehouse: RunningGatehouse;
  before(async () => {
    mongodbUri = emptyDatabaseUri('admin_openapi');
    gatehouse = await startInstance({ mongodbUri, secret: randomSecret() });
  });
  after(async () => {
    await gatehouse.close();
    await recycleDatabase(mongodbUri);
  });

  it('is served without a token and validates as OpenAPI 3.1', async () => {
    const { status, body } = await callAdmin(gatehouse.url, undefined, 'GET', '/openapi.json');
    expect(status).to.equal(200);
    expect(body.openapi).to.equal('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(body);
    expect(result.valid, JSON.stringify(result.errors, null, 2)).to.equal(true);
    expect(validator.version).to.equal('3.1');
  });

  it('lists exactly the routes the router serves, with the zod request schemas', async () => {
    const { body } = await callAdmin(gatehouse.url, undefined, 'GET', '/openapi.json');
    const documented = new Set<string>();
    for (const [path, operations] of Object.entries(body.paths as Record<string, object>)) {
      for (const method of Object.keys(operations)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    // The server builds its admin router on the first admin request (src/server.ts), from
    // these same factories and services; this one is built the same way to read its layers.
    const router = adminRouter({
      adminUrl: `http://localhost:3000${ADMIN_BASE_PATH}`,
      logger: createLogger('silent'),
      auth: async (_ctx, next) => next(),
      routes: adminRoutes(createOperations({ services: gatehouse.services, issuer: 'http://localhost:3000', keys: { keySet: async () => gatehouse.keySet, rotate: async () => ({ ...(await gatehouse.rotateKeys()), announced: false }) } })),
    });
    const served = new Set<string>();
    for (const layer of router.stack as Array<{ path: string; methods: string[] }>) {
      if (!layer.path.startsWith(ADMIN_BASE_PATH) || layer.path.includes('*') || layer.methods.length === 0) continue;
      const path = openApiPath(layer.path.slice(ADMIN_BASE_PATH.length));
      if (path === '/openapi.json') continue;
      for (const method of layer.methods) if (method !== 'HEAD') served.add(`${method} ${path}`);
    }
    expect(served.size).to.be.greaterThan(30);
    expect([...served].sort()).to.deep.equal([...documented].sort());
    const create = body.paths['/clients'].post.requestBody.content['application/json'].schema;
    expect(create.required).to.deep.equal(['name']);
    expect(create.properties.type.enum).to.deep.equal(['confidential', 'public']);
    // Every client field an operator may set is described.
    for (const field of ['token_endpoint_auth_method', 'jwks', 'jwks_uri', 'logo_uri', 'client_uri', 'policy_uri', 'tos_uri', 'backchannel_logout_uri', 'backchannel_logout_session_required', 'minimal_id_token', 'login_uses_default_api', 'require_pkce', 'api_scopes']) {
      expect(create.properties, field).to.have.property(field);
    }
    expect(create.properties.token_endpoint_auth_method.enum).to.include('private_key_jwt');
    expect(body.paths['/apis'].post.requestBody.content['application/json'].schema.properties).to.have.property('client_id');
    expect(body.paths['/apis/{identifier}'].get).to.be.an('object');
    const auditParameters = body.paths['/audit-events'].get.parameters.map((p: { name: string }) => p.name);
    expect(auditParameters).to.include.members(['type', 'user', 'client', 'before', 'limit']);
  });

  it('declares list endpoints as arrays and carries what the zod refinements check', async () => {
    const { body } = await callAdmin(gatehouse.url, undefined, 'GET', '/openapi.json');
    const ok = (path: string) => body.paths[path].get.responses['200'].content['application/json'].schema;
    for (const path of ['/clients', '/apis', '/roles', '/groups', '/users/{userId}/sessions', '/users/{userId}/grants']) {
      expect(ok(path).type, path).to.equal('array');
    }
    expect(ok('/clients/{clientId}').type).to.equal('object');
    // Audit events come a page at a time: {events, next}.
    expect(ok('/audit-events').type).to.equal('object');
    const create = body.paths['/clients'].post.requestBody.content['application/json'].schema;
    // Native apps may use private-use schemes (README "application_type"); never javascript: and the like, never a fragment.
    const redirect = new RegExp(create.properties.redirect_uris.items.pattern as string);
    expect(create.properties.redirect_uris.items.format).to.equal('uri');
    for (const good of ['https://app.example.com/cb', 'com.example.app:/cb', 'http://127.0.0.1/cb']) expect(redirect.test(good), good).to.equal(true);
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', 'https://app.example.com/cb#x', '/relative']) expect(redirect.test(bad), bad).to.equal(false);
    expect(create.properties.post_logout_redirect_uris.items.pattern).to.equal(create.properties.redirect_uris.items.pattern);
    expect(create.properties.application_type.enum).to.deep.equal(['web', 'native']);
    expect(create.properties.web_origins.items.pattern).to.be.a('string');
    const update = body.paths['/clients/{clientId}'].patch.requestBody.content['application/json'].schema;
    expect(update.minProperties).to.equal(1);
  });
});
