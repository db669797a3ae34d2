import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient } from '../helpers/admin.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe22): the last rounds' admin API inputs — claim scopes, custom attributes, required
 * actions, temporary passwords, invitations and the Keycloak import — fed wrong types, odd
 * values and broken JSON. Each is the client's mistake: never a 500 (a refusal is a 4xx with a
 * JSON error body and no stack; the import may also take what it can and report the rest), and
 * the server keeps answering.
 */
describe('probe: odd input to the new admin API operations is never a 500', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  let userId: string;

  before(async () => {
    deploy = await deployment('probe_bad_input');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    const created = await send('POST', '/users', JSON.stringify({ username: 'oddity', password: PASSWORD, email: 'oddity@example.com' }));
    expect(created.status).to.equal(201);
    userId = ((await created.json()) as { id: string }).id;
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  function send(method: string, path: string, body: string | undefined, type = 'application/json') {
    return fetch(`${gatehouse.url}/admin/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': type }) }, body });
  }

  it('answers each without a 500, every refusal a JSON error without a stack', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const cases: Array<[string, string, string]> = [
      // claim scopes
      ['POST', '/claim-scopes', '{"name":123}'],
      ['POST', '/claim-scopes', '{"name":"x","mappers":"department"}'],
      ['POST', '/claim-scopes', '{"name":"x","mappers":[null]}'],
      ['POST', '/claim-scopes', '{"name":"x","mappers":[{"type":"user_attribute"}]}'],
      ['POST', '/claim-scopes', '{"name":"x","mappers":[{"type":"hardcoded","claim":"c","value":{"nested":{"deep":true}}}]}'],
      ['POST', '/claim-scopes', '{"name":"x","mappers":[{"type":"hardcoded","claim":"c","value":1e999}]}'],
      ['POST', '/claim-scopes', '{"name":"x","mappers":[{"type":"user_attribute","attribute":"a","claim":"c","json_type":"__proto__"}]}'],
      ['POST', '/claim-scopes', '{"name":"x","description":["en"]}'],
      ['POST', '/claim-scopes', '{"name":"x","description":{"xx-INVALID":"hi","en":"x"}}'],
      ['POST', '/claim-scopes', `{"name":"x","description":{"en":"${'x'.repeat(100_000)}"}}`],
      ['POST', '/claim-scopes', `{"name":"x","mappers":${deep}}`],
      ['PATCH', '/claim-scopes/nosuch', '{"mappers":[]}'],
      ['PATCH', '/claim-scopes/%E0%A4%A', '{}'],
      ['DELETE', '/claim-scopes/..%2F..%2Fusers', ''],
      // custom attributes and required actions
      ['PATCH', '/users/{id}', '{"attributes":["department"]}'],
      ['PATCH', '/users/{id}', '{"attributes":{"department":{"$gt":""}}}'],
      ['PATCH', '/users/{id}', '{"attributes":{"department":[["nested"]]}}'],
      ['PATCH', '/users/{id}', `{"attributes":{"department":"${'\u202E'.repeat(10)}${'x'.repeat(2000)}"}}`],
      ['PATCH', '/users/{id}', '{"required_actions":"update_password"}'],
      ['PATCH', '/users/{id}', '{"required_actions":[null,{"$ne":1}]}'],
      ['PATCH', '/users/{id}', '{"required_actions":["toString"]}'],
      ['PUT', '/users/{id}/password', '{"password":"a new one 12345","temporary":"yes"}'],
      ['PUT', '/users/{id}/password', '{"password":["x"],"temporary":true}'],
      ['PUT', '/users/nosuchuser/password', '{"password":"a new one 12345","temporary":true}'],
      // invitations
      ['POST', '/users/{id}/invitation', '{"lifetime_seconds":"soon"}'],
      ['POST', '/users/{id}/invitation', '{"lifetime_seconds":1e308}'],
      ['POST', '/users/{id}/invitation', '{"lifetime_seconds":-1}'],
      ['POST', '/users/{id}/invitation', '{"client_id":{"$ne":null},"redirect_uri":"https://x.example/cb"}'],
      ['POST', '/users/{id}/invitation', '{"client_id":"nosuch","redirect_uri":"javascript:alert(1)"}'],
      ['POST', '/users/{id}/invitation', '[]'],
      ['POST', '/users/{id}/invitation', 'not json'],
      ['POST', '/users/nosuchuser/invitation', '{}'],
      ['GET', '/users/nosuchuser/invitation', ''],
      ['DELETE', '/users/nosuchuser/invitation', ''],
      ['POST', '/users', '{"username":"inv1","invite":"yes","email":"inv1@example.com"}'],
      ['POST', '/users', '{"username":"inv2","invite":true,"email":["inv2@example.com"]}'],
      // Keycloak import
      ['POST', '/import/keycloak', '[]'],
      ['POST', '/import/keycloak', '"realm"'],
      ['POST', '/import/keycloak', '{"realm":{"name":"x"}}'],
      ['POST', '/import/keycloak', '{"realm":"x","users":{"0":{}}}'],
      ['POST', '/import/keycloak', '{"realm":"x","users":[null,1,"u",[]]}'],
      ['POST', '/import/keycloak', '{"realm":"x","users":[{"username":"ok1","credentials":[null,{"type":"password","secretData":12,"credentialData":[]}]}]}'],
      ['POST', '/import/keycloak', '{"realm":"x","users":[{"username":"ok2","requiredActions":"UPDATE_PASSWORD","attributes":[1,2]}]}'],
      ['POST', '/import/keycloak', '{"realm":"x","clientScopes":[{"name":"s","protocol":"openid-connect","protocolMappers":[null,{"protocolMapper":"oidc-usermodel-attribute-mapper","config":null}]}]}'],
      ['POST', '/import/keycloak', '{"realm":"x","clients":[{"clientId":"c1","redirectUris":"https://x.example/cb","defaultClientScopes":{"a":1}}]}'],
      ['POST', '/import/keycloak', '{"realm":"x","roles":{"realm":[{"name":null},{"name":"r","composites":{"realm":"r"}}]}}'],
      ['POST', '/import/keycloak?dry_run=maybe', '{"realm":"x"}'],
      ['POST', '/import/keycloak?api=javascript:alert(1)', '{"realm":"x"}'],
      ['POST', '/import/keycloak', '{"realm":"x"'],
    ];
    const failures: string[] = [];
    for (const [method, template, body] of cases) {
      const path = template.replace('{id}', userId);
      const response = await send(method, path, body === '' ? undefined : body);
      const text = await response.text();
      const label = `${method} ${template} ${body.slice(0, 80)}`;
      if (response.status >= 500) failures.push(`${label} → ${response.status} ${text.slice(0, 200)}`);
      else if (response.status >= 400) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          failures.push(`${label} → ${response.status}, not JSON: ${text.slice(0, 120)}`);
          continue;
        }
        if (typeof (parsed as { error?: unknown }).error !== 'string') failures.push(`${label} → ${response.status} without "error": ${text.slice(0, 120)}`);
      }
      expect(text, label).not.to.match(/\bat [\w.<>]+ \(|node_modules|\.ts:\d+/);
    }
    expect(failures).to.deep.equal([]);
    // Still answering.
    expect((await send('GET', `/users/${userId}`, undefined)).status).to.equal(200);
  });
});
