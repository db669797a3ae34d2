import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { deployment, throwawayAuthorizationUrl, type Deployment } from '../helpers/e2e.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/keycloak/realm-export-consents.json', import.meta.url));
const REALM_EXPORT = JSON.parse(readFileSync(FIXTURE, 'utf8')) as {
  users: Array<{ id: string; username: string; clientConsents?: Array<{ clientId: string; grantedClientScopes: string[]; createdDate: number; lastUpdatedDate: number }> }>;
};
/** The redirect URI make-consent-fixture.sh registered for both clients. */
const REDIRECT = 'http://127.0.0.1:9/callback';
const KIM = { username: 'kim-consent', password: 'Consent password #10' };
const LOU = { username: 'lou-no-consent', password: 'Consent password #11' };

/**
 * Keycloak's user consents (`clientConsents`, written by a real Keycloak 26.7.3 when the user
 * pressed "Yes" on its consent page: make-consent-fixture.sh) become Gatehouse consent records:
 * the imported app does not ask that user again for what they allowed in Keycloak.
 */
describe('Keycloak import: users\' consents (clientConsents) carry over', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const kim = REALM_EXPORT.users.find((user) => user.username === KIM.username)!;
  const lou = REALM_EXPORT.users.find((user) => user.username === LOU.username)!;

  before(async () => {
    deploy = await deployment('keycloak_consents');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  const signInTo = (clientId: string, user: { username: string; password: string }, scope: string) =>
    signIn(new UserAgent(), throwawayAuthorizationUrl(deploy.issuer, clientId, REDIRECT, { scope }), REDIRECT, user);

  it('the fixture holds Keycloak consents: kim to planner and diary, lou none', () => {
    expect(kim.clientConsents?.map((consent) => consent.clientId).sort()).to.deep.equal(['diary', 'planner']);
    const planner = kim.clientConsents!.find((consent) => consent.clientId === 'planner')!;
    expect(planner.grantedClientScopes).to.include.members(['profile', 'email']);
    expect(planner.createdDate).to.be.a('number');
    expect(lou.clientConsents ?? []).to.deep.equal([]);
  });

  it('imports them as consent records (dry run counts them, writes none), with Keycloak\'s dates', async () => {
    const dry = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak?dry_run=true', REALM_EXPORT);
    expect(dry.status, JSON.stringify(dry.body)).to.equal(200);
    expect(dry.body.consents).to.equal(2);
    expect(await gatehouse.services.consents.ofUser(kim.id)).to.deep.equal([]);

    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', REALM_EXPORT);
    expect(status, JSON.stringify(body)).to.equal(200);
    expect(body.consents).to.equal(2);
    const listed = await callAdmin(gatehouse.url, token, 'GET', `/users/${kim.id}/consents`);
    expect(listed.status).to.equal(200);
    const planner = listed.body.find((consent: { client_id: string }) => consent.client_id === 'planner');
    const diary = listed.body.find((consent: { client_id: string }) => consent.client_id === 'diary');
    expect(planner.scopes).to.include.members(['openid', 'profile', 'email']);
    expect(diary.scopes).to.include.members(['openid', 'email', 'offline_access']).and.not.include('address');
    const exported = kim.clientConsents!.find((consent) => consent.clientId === 'planner')!;
    expect(planner.created_at).to.equal(new Date(exported.createdDate).toISOString());
    expect((await callAdmin(gatehouse.url, token, 'GET', `/users/${lou.id}/consents`)).body).to.deep.equal([]);
  });

  it('the imported app does not ask the user who consented in Keycloak; it asks one who did not', async () => {
    const remembered = await signInTo('planner', KIM, 'openid profile email');
    expect(remembered.sawLogin).to.equal(true);
    expect(remembered.sawConsent, 'kim allowed planner in Keycloak').to.equal(false);
    expect(remembered.callback.searchParams.get('code')).to.be.a('string');
    expect((await signInTo('diary', KIM, 'openid address')).sawConsent, 'address was not allowed to diary in Keycloak').to.equal(true);
    expect((await signInTo('planner', LOU, 'openid profile')).sawConsent, 'lou never consented').to.equal(true);
  });

  it('a re-import keeps what the user allowed in Gatehouse since, and when', async () => {
    const allowedHere = (await gatehouse.services.consents.find(kim.id, 'diary'))!.updatedAt;
    const keycloakDate = new Date(kim.clientConsents!.find((consent) => consent.clientId === 'diary')!.lastUpdatedDate);
    expect(allowedHere.getTime(), 'the consent page above updated the record').to.be.greaterThan(keycloakDate.getTime());
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', REALM_EXPORT);
    expect(status, JSON.stringify(body)).to.equal(200);
    const diary = (await gatehouse.services.consents.find(kim.id, 'diary'))!;
    expect(diary.scopes, 'address, allowed on the Gatehouse consent page above, stays').to.include.members(['openid', 'email', 'offline_access', 'address']);
    expect(diary.updatedAt.toISOString(), "the later of the two dates: Gatehouse's, not Keycloak's older one").to.equal(allowedHere.toISOString());
  });
});
