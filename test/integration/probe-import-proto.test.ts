import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';

/**
 * Probe (probe22): `__proto__` members in a Keycloak export. JSON.parse makes them own members;
 * a copy by assignment (Object.assign, a merge) would make them the copy's prototype, and a
 * lookup such as `realm.users` or `user.realmRoles` would then find what the member holds. The
 * export below hides users, roles, a client's public switch and a user's enabled flag behind
 * `__proto__`: none of it may take effect, and the import goes through (200, exit 0) with the
 * rest, through the admin API and the CLI alike.
 */
describe('probe: __proto__ members in a Keycloak import', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  let dir: string;
  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

  before(async () => {
    deploy = await deployment('probe_kc_proto');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-probe-proto-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await gatehouse.close();
    await deploy.drop();
  });

  /** Written as text: an object literal's `__proto__` would set the prototype instead of a member. */
  const exportText = (realm: string) => `{
    "realm": "${realm}", "enabled": true,
    "__proto__": { "users": [ { "id": "9c2e4f60-0000-4000-8000-00000000000f", "username": "hidden-${realm}", "enabled": true } ] },
    "roles": { "realm": [ { "name": "editor", "composite": false, "clientRole": false } ], "__proto__": { "realm": [ { "name": "ghost-${realm}" } ] } },
    "clients": [ { "clientId": "proto-app-${realm}", "enabled": true, "secret": "proto-app-secret-0123456789", "standardFlowEnabled": true,
                   "redirectUris": [ "https://proto.example.com/cb" ], "__proto__": { "publicClient": true, "directAccessGrantsEnabled": true } } ],
    "users": [
      { "id": "9c2e4f60-0000-4000-8000-000000000001", "username": "plain-${realm}", "enabled": false,
        "__proto__": { "realmRoles": [ "editor" ], "enabled": true, "requiredActions": [] },
        "requiredActions": [ "UPDATE_PROFILE" ],
        "attributes": { "__proto__": [ "x" ], "department": [ "eng" ] } }
    ]
  }`;

  async function check(realm: string) {
    const users = await call('GET', `/users?q=${realm}`);
    expect(users.status).to.equal(200);
    const names = JSON.stringify(users.body);
    expect(names, 'no user from a __proto__ member').not.to.include(`hidden-${realm}`);
    const plain = await call('GET', '/users/9c2e4f60-0000-4000-8000-000000000001');
    expect(plain.status, JSON.stringify(plain.body)).to.equal(200);
    expect(plain.body.disabled, 'enabled: false stands').to.equal(true);
    expect(plain.body.roles, 'no role from a __proto__ member').not.to.include('editor');
    expect(plain.body.required_actions).to.deep.equal(['update_profile']);
    expect(plain.body.attributes).to.deep.equal({ department: 'eng' });
    const client = await call('GET', `/clients/proto-app-${realm}`);
    expect(client.status, JSON.stringify(client.body)).to.equal(200);
    expect(client.body.token_endpoint_auth_method, 'still confidential').not.to.equal('none');
    expect(JSON.stringify(client.body)).not.to.include('"password"');
    const roles = await call('GET', '/roles');
    expect(JSON.stringify(roles.body)).not.to.include(`ghost-${realm}`);
    expect(({} as Record<string, unknown>).realmRoles).to.equal(undefined);
    expect(({} as Record<string, unknown>).publicClient).to.equal(undefined);
  }

  it('through the admin API: dry run and import answer 200, and nothing behind __proto__ takes effect', async () => {
    for (const query of ['?dry_run=true', '']) {
      const response = await fetch(`${gatehouse.url}/admin/api/v1/import/keycloak${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: exportText('protoapi'),
      });
      const body = (await response.json()) as Record<string, unknown>;
      expect(response.status, JSON.stringify(body)).to.equal(200);
    }
    await check('protoapi');
  });

  it('through the CLI: the same export file, the same outcome', async () => {
    await call('DELETE', '/users/9c2e4f60-0000-4000-8000-000000000001');
    const path = join(dir, 'protocli-realm.json');
    writeFileSync(path, exportText('protocli'));
    const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
    const ran = await runCli(['import', '--keycloak', path], env);
    expect(ran.code, ran.stderr).to.equal(0);
    await check('protocli');
  });
});
