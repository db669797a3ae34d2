import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';

const MARK = { kind: 'keycloak', realm: 'acme' };
const document = {
  realm: 'acme',
  enabled: true,
  clients: [{ clientId: 'kc-web', enabled: true, publicClient: false, clientAuthenticatorType: 'client-secret', secret: 'kc-secret', standardFlowEnabled: true, redirectUris: ['https://web.example.com/cb'], webOrigins: [] }],
  clientScopes: [
    {
      name: 'department',
      protocol: 'openid-connect',
      attributes: {},
      protocolMappers: [{ name: 'dept', protocol: 'openid-connect', protocolMapper: 'oidc-hardcoded-claim-mapper', config: { 'claim.name': 'dept', 'claim.value': 'sales', 'jsonType.label': 'String', 'id.token.claim': 'true', 'access.token.claim': 'true', 'userinfo.token.claim': 'true' } }],
    },
  ],
  identityProviders: [
    { alias: 'corp', providerId: 'oidc', enabled: true, trustEmail: false, config: { clientId: 'gatehouse', clientSecret: 'idp-secret', issuer: 'https://corp.example.com', authorizationUrl: 'https://corp.example.com/auth', tokenUrl: 'https://corp.example.com/token', clientAuthMethod: 'client_secret_post' } },
  ],
};

/**
 * Which Keycloak realm an import created a client, a claim scope or an upstream provider from (only
 * that realm's re-imports replace it) is shown to operators, as it is for users: the admin API's
 * `imported_from` (get and list; null for one made here), `gatehouse … get`.
 */
describe('Keycloak import: operators see the import mark of clients, claim scopes and upstream providers', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const get = async (path: string) => {
    const response = await callAdmin(gatehouse.url, token, 'GET', path);
    expect(response.status, `${path}: ${JSON.stringify(response.body)}`).to.equal(200);
    return response.body;
  };
  const cli = (args: string[]) => runCli(args, { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings });

  before(async () => {
    deploy = await deployment('kc_import_mark_view');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    const imported = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', document);
    expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
    for (const [path, body] of [
      ['/clients', { client_id: 'local-web', name: 'Local', redirect_uris: ['https://local.example.com/cb'] }],
      ['/claim-scopes', { name: 'local-scope', mappers: [{ type: 'hardcoded', claim: 'local_claim', value: 'x' }] }],
      ['/upstream-providers', { alias: 'local-idp', kind: 'oidc', issuer: 'https://idp.example.com', client_id: 'gh', client_secret: 'secret' }],
    ] as const) {
      const created = await callAdmin(gatehouse.url, token, 'POST', path, body);
      expect(created.status, `${path}: ${JSON.stringify(created.body)}`).to.equal(201);
    }
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('the admin API shows imported_from on get and list: the realm for what the import created, null for what was made here', async () => {
    expect((await get('/clients/kc-web')).imported_from).to.deep.equal(MARK);
    expect((await get('/clients/local-web')).imported_from).to.equal(null);
    expect((await get('/claim-scopes/department')).imported_from).to.deep.equal(MARK);
    expect((await get('/claim-scopes/local-scope')).imported_from).to.equal(null);
    expect((await get('/upstream-providers/corp')).imported_from).to.deep.equal(MARK);
    expect((await get('/upstream-providers/local-idp')).imported_from).to.equal(null);
    const marks = (list: Array<Record<string, unknown>>, key: string) => Object.fromEntries(list.map((item) => [item[key], item.imported_from]));
    expect(marks(await get('/clients'), 'client_id')).to.include({ 'local-web': null }).and.to.have.deep.property('kc-web', MARK);
    expect(marks(await get('/claim-scopes'), 'name')).to.include({ 'local-scope': null }).and.to.have.deep.property('department', MARK);
    expect(marks(await get('/upstream-providers'), 'alias')).to.include({ 'local-idp': null }).and.to.have.deep.property('corp', MARK);
  });

  it('the OpenAPI document says so on each get route', async () => {
    const openapi = (await callAdmin(gatehouse.url, undefined, 'GET', '/openapi.json')).body as { paths: Record<string, { get: { summary: string } }> };
    for (const path of ['/clients/{clientId}', '/claim-scopes/{name}', '/upstream-providers/{alias}']) expect(openapi.paths[path]!.get.summary, path).to.include('imported_from');
  });

  it('gatehouse clients get, claim-scopes get and idps get show it', async () => {
    for (const [args, mark] of [
      [['clients', 'get', 'kc-web'], MARK],
      [['clients', 'get', 'local-web', '--json'], null],
      [['claim-scopes', 'get', 'department'], MARK],
      [['claim-scopes', 'get', 'local-scope', '--json'], null],
      [['idps', 'get', 'corp'], MARK],
      [['idps', 'get', 'local-idp', '--json'], null],
    ] as const) {
      const shown = await cli([...args]);
      expect(shown.code, shown.stderr).to.equal(0);
      expect((JSON.parse(shown.stdout) as { imported_from: unknown }).imported_from, args.join(' ')).to.deep.equal(mark);
    }
  });
});
