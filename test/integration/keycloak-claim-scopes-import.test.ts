import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, relyingParty, type Deployment } from '../helpers/e2e.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/keycloak/realm-export-claim-scopes.json', import.meta.url));
const REALM_EXPORT = JSON.parse(readFileSync(FIXTURE, 'utf8')) as {
  clientScopes: Array<{ name: string; protocolMappers?: Array<{ name: string; protocolMapper: string }> }>;
  users: Array<{ id: string; username: string; clientConsents?: Array<{ clientId: string; grantedClientScopes: string[] }> }>;
};
/** What make-claim-scopes-fixture.sh registered and set. */
const REDIRECT = 'http://127.0.0.1:9/callback';
const NIA = { username: 'nia-claims', password: 'Claims password #12' };
const HR_APP = { clientId: 'hr-app', secret: 'hr-app-secret-0123456789' };

type Unmapped = Array<{ kind: string; name: string; reason: string }>;

/**
 * Keycloak's custom client scopes (written by a real Keycloak 26.7.3: make-claim-scopes-fixture.sh)
 * become claim scopes: User Attribute and Hardcoded claim mappers carry over, other mapper types are
 * reported by name; the clients keep them; users' consents to them are kept.
 */
describe('Keycloak import: custom client scopes → claim scopes', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const nia = REALM_EXPORT.users.find((user) => user.username === NIA.username)!;

  before(async () => {
    deploy = await deployment('keycloak_claim_scopes');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('the fixture holds what Keycloak wrote: two custom scopes, one with an audience mapper, and nia\'s consent to both', () => {
    const names = REALM_EXPORT.clientScopes.map((scope) => scope.name);
    expect(names).to.include.members(['department', 'clearance', 'profile', 'microprofile-jwt', 'organization', 'acr', 'basic', 'web-origins']);
    const clearance = REALM_EXPORT.clientScopes.find((scope) => scope.name === 'clearance')!;
    expect(clearance.protocolMappers!.map((mapper) => mapper.protocolMapper).sort()).to.deep.equal(['oidc-audience-mapper', 'oidc-hardcoded-claim-mapper']);
    expect(nia.clientConsents![0]!.grantedClientScopes).to.include.members(['department', 'clearance']);
  });

  it('a dry run reports the claim scopes it would create and what it leaves out, by name; it writes nothing', async () => {
    const dry = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak?dry_run=true', REALM_EXPORT);
    expect(dry.status, JSON.stringify(dry.body)).to.equal(200);
    expect(dry.body.claimScopes.created).to.have.members(['department', 'clearance']);
    const unmapped = dry.body.unmapped as Unmapped;
    const about = (kind: string, name: string) => unmapped.filter((item) => item.kind === kind && item.name === name).map((item) => item.reason).join(' | ');
    expect(about('client scope', 'clearance')).to.match(/mapper billing audience: mapper type oidc-audience-mapper is not supported/);
    expect(about('client scope', 'microprofile-jwt')).to.match(/upn/);
    expect(about('client scope', 'organization')).to.match(/organizations are not supported/);
    // Built-in scopes Gatehouse covers are not reported; nor are the custom ones it took whole.
    for (const name of ['profile', 'email', 'roles', 'acr', 'basic', 'web-origins', 'department']) expect(about('client scope', name), name).to.equal('');
    // Its default client scope department is a default scope in Gatehouse too (keycloak-default-scopes-import.test.ts): no gap to report.
    expect(about('client', 'hr-app')).not.to.match(/default client scope/);
    expect(await gatehouse.services.claimScopes.list()).to.deep.equal([]);
  });

  it('imports them before the clients that list them; nia\'s consent keeps them; her tokens carry the mapped claims', async () => {
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', REALM_EXPORT);
    expect(status, JSON.stringify(body)).to.equal(200);
    expect(body.claimScopes.created).to.have.members(['department', 'clearance']);

    const department = await gatehouse.services.claimScopes.get('department');
    expect(department?.description).to.deep.equal({ en: 'See your department' });
    expect(department?.mappers).to.have.deep.members([
      { type: 'user_attribute', claim: 'department', attribute: 'department', multivalued: false, idToken: true, accessToken: true, introspection: true, userinfo: true },
      { type: 'user_attribute', claim: 'languages', attribute: 'langs', multivalued: true, idToken: false, accessToken: true, introspection: true, userinfo: true },
      // Keycloak's "Add to token introspection" is on where "Add to access token" is off: introspection shows it, the access token does not.
      { type: 'hardcoded', claim: 'tenant', value: 'acme', multivalued: false, idToken: true, accessToken: false, introspection: true, userinfo: true },
    ]);
    expect((await gatehouse.services.claimScopes.get('clearance'))?.mappers).to.deep.equal([{ type: 'hardcoded', claim: 'level', value: 3, multivalued: false, idToken: true, accessToken: true, introspection: true, userinfo: true }]);
    const client = await callAdmin(gatehouse.url, token, 'GET', '/clients/hr-app');
    expect((client.body.scope as string).split(' ')).to.include.members(['openid', 'profile', 'email', 'department', 'clearance']);

    const consents = await callAdmin(gatehouse.url, token, 'GET', `/users/${nia.id}/consents`);
    expect(consents.body[0].scopes).to.include.members(['openid', 'department', 'clearance']);

    // Re-importing is idempotent: the scopes are updated, not refused as existing.
    const again = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', REALM_EXPORT);
    expect(again.body.claimScopes.updated).to.have.members(['department', 'clearance']);

    // nia consented in Keycloak: no consent page; the ID token and userinfo carry the claims.
    const config = await relyingParty(deploy.issuer, HR_APP.clientId, HR_APP.secret);
    const request = await authorizationRequest(config, REDIRECT, { scope: 'openid profile department clearance' });
    const signedIn = await signIn(new UserAgent(), request.url.href, REDIRECT, NIA);
    expect(signedIn.sawConsent, 'nia allowed these scopes in Keycloak').to.equal(false);
    const tokens = await oidc.authorizationCodeGrant(config, signedIn.callback, request.checks);
    expect(decodeJwt(tokens.id_token!)).to.include({ department: 'eng', tenant: 'acme', level: 3 });
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, oidc.skipSubjectCheck);
    expect(userinfo).to.include({ department: 'eng', level: 3 });
    expect(userinfo.languages).to.deep.equal(['en', 'fr']);
    // Introspection as Keycloak's: tenant (introspection only) shown beside the access-token claims.
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).to.include({ active: true, department: 'eng', tenant: 'acme', level: 3 });
  });
});
