import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { API, deployment, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';
import { emptyDatabaseUri } from '../helpers/stores.ts';

const KEYCLOAK_API = 'https://orders.example.com';
const OPAQUE_API = 'https://opaque.example.com';

/**
 * A client's service-account roles (`service_account_roles`, Keycloak's service-account user's role
 * mappings): its client_credentials tokens carry them as a user's tokens carry the user's roles —
 * `roles` for an API that includes roles, `realm_access` / `resource_access` with Keycloak's claims —
 * in the JWT and at introspection. Set through the admin API and the CLI; never `admin`.
 */
describe('service-account roles in client_credentials tokens (admin API, OpenAPI, CLI, export, tokens)', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  let env: Record<string, string>;

  before(async () => {
    deploy = await deployment('service_account_roles');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    await gatehouse.services.apis.create({ identifier: API, scopes: ['read'], includeRoles: true });
    await gatehouse.services.apis.create({ identifier: KEYCLOAK_API, scopes: ['read'], tokenClaims: 'keycloak' });
    await gatehouse.services.apis.create({ identifier: OPAQUE_API, scopes: ['read'], includeRoles: true, format: 'opaque' });
    env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  async function createService(extra: Record<string, unknown>) {
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'Billing worker', apis: [API, KEYCLOAK_API, OPAQUE_API], ...extra });
    expect(status, JSON.stringify(body)).to.equal(201);
    return { clientId: body.client_id as string, secret: body.client_secret as string, body };
  }
  const grant = async (service: { clientId: string; secret: string }, resource: string) => {
    const config = await relyingParty(deploy.issuer, service.clientId, service.secret);
    return { config, tokens: await oidc.clientCredentialsGrant(config, { resource }) };
  };

  it('the admin API takes, shows, replaces and removes them; refuses admin naming the field; OpenAPI documents them', async () => {
    const service = await createService({ service_account_roles: ['billing', 'orders-api:orders.read', 'billing'] });
    expect(service.body.service_account_roles).to.deep.equal(['billing', 'orders-api:orders.read']);
    expect((await createService({})).body.service_account_roles).to.deep.equal([]);
    const path = `/clients/${encodeURIComponent(service.clientId)}`;
    const refused = await callAdmin(gatehouse.url, token, 'PATCH', path, { service_account_roles: ['billing', 'admin'] });
    expect(refused.status).to.equal(400);
    expect(refused.body.details[0]).to.include({ path: 'service_account_roles', code: 'admin_service_account_role' });
    const created = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'Sneaky', service_account_roles: ['admin'] });
    expect(created.status).to.equal(400);
    const replaced = await callAdmin(gatehouse.url, token, 'PATCH', path, { service_account_roles: ['reports'] });
    expect(replaced.status, JSON.stringify(replaced.body)).to.equal(200);
    expect(replaced.body.service_account_roles).to.deep.equal(['reports']);
    const removed = await callAdmin(gatehouse.url, token, 'PATCH', path, { service_account_roles: null });
    expect(removed.body.service_account_roles).to.deep.equal([]);
    const openapi = (await callAdmin(gatehouse.url, undefined, 'GET', '/openapi.json')).body;
    const create = openapi.paths['/clients'].post.requestBody.content['application/json'].schema;
    expect(create.properties.service_account_roles.type).to.equal('array');
    expect(JSON.stringify(openapi.paths['/clients/{clientId}'].patch.requestBody.content['application/json'].schema.properties.service_account_roles)).to.include('array');
  });

  it('client_credentials JWTs carry them as roles (an API that includes roles) and at introspection', async () => {
    const service = await createService({ service_account_roles: ['billing', 'orders-api:orders.read'] });
    const { config, tokens } = await grant(service, API);
    const claims = decodeJwt(tokens.access_token);
    expect(claims).to.include({ aud: API, client_id: service.clientId });
    expect(claims.roles).to.deep.equal(['billing', 'orders-api:orders.read']);
    const introspected = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(introspected).to.include({ active: true });
    expect(introspected.roles).to.deep.equal(['billing', 'orders-api:orders.read']);

    // An opaque token for such an API: the same claim at introspection.
    const opaque = await grant(service, OPAQUE_API);
    expect(opaque.tokens.access_token.split('.')).to.have.length(1);
    expect((await oidc.tokenIntrospection(opaque.config, opaque.tokens.access_token)).roles).to.deep.equal(['billing', 'orders-api:orders.read']);

    // A client without them: no roles claim, as before.
    const plain = await grant(await createService({}), API);
    expect(decodeJwt(plain.tokens.access_token)).to.not.have.property('roles');
  });

  it('with Keycloak claims (the API’s or the client’s) as realm_access and resource_access', async () => {
    const service = await createService({ service_account_roles: ['billing', 'orders-api:orders.read'] });
    const { config, tokens } = await grant(service, KEYCLOAK_API);
    const claims = decodeJwt(tokens.access_token);
    expect(claims).to.include({ typ: 'Bearer', azp: service.clientId });
    expect(claims.realm_access).to.deep.equal({ roles: ['billing'] });
    expect(claims.resource_access).to.deep.equal({ 'orders-api': { roles: ['orders.read'] } });
    const introspected = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(introspected.realm_access).to.deep.equal({ roles: ['billing'] });

    const keycloakClient = await createService({ token_claims: 'keycloak', service_account_roles: ['orders-api:orders.write'] });
    const own = decodeJwt((await grant(keycloakClient, API)).tokens.access_token);
    expect(own).to.include({ typ: 'Bearer', azp: keycloakClient.clientId });
    expect(own.realm_access).to.deep.equal({ roles: [] });
    expect(own.resource_access).to.deep.equal({ 'orders-api': { roles: ['orders.write'] } });
  });

  it('the CLI sets them (--service-account-role, repeated), refuses admin naming the flag, and --unset removes them', async () => {
    const made = await runCli(['clients', 'create', '--name', 'Cron', '--service-account-role', 'billing', '--service-account-role', 'reports', '--json'], env);
    expect(made.code, made.stderr).to.equal(0);
    const id = (JSON.parse(made.stdout) as { client_id: string }).client_id;
    const shown = async () => (JSON.parse((await runCli(['clients', 'get', id, '--json'], env)).stdout) as { service_account_roles: string[] }).service_account_roles;
    expect(await shown()).to.deep.equal(['billing', 'reports']);
    const bad = await runCli(['clients', 'update', id, '--service-account-role', 'admin'], env);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include('--service-account-role');
    expect(await shown()).to.deep.equal(['billing', 'reports']);
    expect((await runCli(['clients', 'update', id, '--unset', 'service_account_roles'], env)).code).to.equal(0);
    expect(await shown()).to.deep.equal([]);
    const help = await runCli(['help'], env);
    expect(help.stdout + help.stderr).to.include('--service-account-role');
  });

  it("a Keycloak realm's service account, from a users file on its own (kc.sh export --dir, one request per file): its roles become the client's; a realm file's re-import keeps them", async () => {
    const realm = {
      realm: 'svc',
      enabled: true,
      defaultRole: { name: 'default-roles-svc' },
      roles: {
        realm: [{ name: 'default-roles-svc', composite: true, composites: { realm: ['offline_access', 'member'] } }, { name: 'member' }, { name: 'admin' }, { name: 'offline_access' }],
        client: { ledger: [{ name: 'post' }] },
      },
      clients: [{ clientId: 'svc-worker', enabled: true, publicClient: false, secret: 'svc-worker-secret-0123456789abcdef', serviceAccountsEnabled: true, standardFlowEnabled: false }],
    };
    const usersFile = { realm: 'svc', users: [{ id: randomUUID(), username: 'service-account-svc-worker', enabled: true, serviceAccountClientId: 'svc-worker', realmRoles: ['default-roles-svc', 'admin'], clientRoles: { ledger: ['post'] } }] };
    expect((await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', realm)).status).to.equal(200);
    expect((await gatehouse.services.clients.get('svc-worker'))!.metadata.service_account_roles).to.equal(undefined);
    const dry = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak?dry_run=true', usersFile);
    expect(dry.body.serviceAccounts).to.deep.equal([{ client: 'svc-worker', roles: ['ledger:post', 'member'] }]);
    expect((await gatehouse.services.clients.get('svc-worker'))!.metadata.service_account_roles).to.equal(undefined);
    const users = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', usersFile);
    expect(users.status, JSON.stringify(users.body)).to.equal(200);
    expect(users.body.users).to.deep.equal({ created: [], updated: [] });
    expect(users.body.counts.serviceAccounts).to.equal(1);
    // admin never, though the service account held it in Keycloak.
    expect((await gatehouse.services.clients.get('svc-worker'))!.metadata.service_account_roles).to.deep.equal(['ledger:post', 'member']);
    expect((await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', realm)).status).to.equal(200);
    expect((await gatehouse.services.clients.get('svc-worker'))!.metadata.service_account_roles).to.deep.equal(['ledger:post', 'member']);
    const config = await relyingParty(deploy.issuer, 'svc-worker', 'svc-worker-secret-0123456789abcdef');
    const introspected = await oidc.tokenIntrospection(config, (await oidc.clientCredentialsGrant(config)).access_token);
    expect(introspected.realm_access).to.deep.equal({ roles: ['member'] });
    expect(introspected.resource_access).to.deep.equal({ ledger: { roles: ['post'] } });
  });

  it('gatehouse export / import carry them to another deployment', async () => {
    const service = await createService({ service_account_roles: ['billing'] });
    const file = join(tmpdir(), `gatehouse-sa-roles-${randomBytes(4).toString('hex')}.json`);
    try {
      const exported = await runCli(['export', '--output', file, '--unencrypted', '--json'], env);
      expect(exported.code, exported.stderr).to.equal(0);
      const target = { ...env, MONGODB_URI: emptyDatabaseUri('service_account_roles_copy') };
      const imported = await runCli(['import', '--input', file, '--json'], target);
      expect(imported.code, imported.stderr).to.equal(0);
      const shown = await runCli(['clients', 'get', service.clientId, '--json'], target);
      expect((JSON.parse(shown.stdout) as { service_account_roles: string[] }).service_account_roles).to.deep.equal(['billing']);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
