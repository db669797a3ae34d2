// RP-initiated logout by someone who is not signed in (a bookmarked sign-out link, a crawler, an
// app signing out after the session already ended): nothing to end, so nothing is stored. The
// library keeps its sign-out form's secret in a session record, which Gatehouse would otherwise
// keep for the whole session lifetime (14 days) per visit. Also the device authorization
// endpoint opened in a browser, which Keycloak answers with its code entry page.
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { deployment, LOGOUT_REDIRECT_URI, PASSWORD, REDIRECT_URI, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';

const CHALLENGE = { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };

for (const layout of ['gatehouse', 'keycloak'] as const) {
  describe(`the sign-out page for a visitor who is not signed in (${layout} layout)`, function () {
    this.timeout(120_000);
    let deploy: Deployment;
    let gatehouse: RunningGatehouse;
    let seeded: Seeded;
    let connection: Connection;
    let issuer: string;
    const endSession = () => `${issuer}${layout === 'keycloak' ? '/protocol/openid-connect/logout' : '/session/end'}`;
    const storedSessions = () => connection.db!.collection('oidc_session').countDocuments({});

    before(async () => {
      deploy = await deployment(`anon_signout_${layout}`, layout === 'keycloak' ? { settings: { GATEHOUSE_KEYCLOAK_REALM: 'acme' } } : {});
      gatehouse = await deploy.start();
      issuer = layout === 'keycloak' ? `${deploy.issuer}/realms/acme` : deploy.issuer;
      seeded = await seed(gatehouse);
      connection = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    });
    after(async () => {
      await connection?.close();
      await gatehouse?.close();
      await deploy?.drop();
    });

    it('stores no session and goes straight to the signed-out page', async () => {
      const agent = new UserAgent();
      const response = await agent.request(endSession());
      expect(response.status).to.equal(303);
      expect(response.headers.get('location')).to.equal(`${endSession()}/success`);
      expect(agent.cookies.has('_session'), 'no session cookie left behind').to.equal(false);
      expect(await storedSessions()).to.equal(0);
      const page = await agent.request(response.headers.get('location')!);
      expect(page.status).to.equal(200);
      expect(await page.text()).to.include('signed out');
      expect(await storedSessions()).to.equal(0);
    });

    it("sends the application's visitor back to its registered post-logout address with its state, storing nothing", async () => {
      const url = new URL(endSession());
      url.search = new URLSearchParams({ client_id: seeded.web.clientId, post_logout_redirect_uri: LOGOUT_REDIRECT_URI, state: 'st-1' }).toString();
      const response = await new UserAgent().request(url.href);
      expect(response.status).to.equal(303);
      expect(response.headers.get('location')).to.equal(`${LOGOUT_REDIRECT_URI}?state=st-1`);
      expect(await storedSessions()).to.equal(0);
    });

    it('names the application on the signed-out page when it gave no post-logout address', async () => {
      const agent = new UserAgent();
      const url = new URL(endSession());
      url.search = new URLSearchParams({ client_id: seeded.web.clientId }).toString();
      const response = await agent.request(url.href);
      expect(response.status).to.equal(303);
      const page = await (await agent.request(response.headers.get('location')!)).text();
      expect(page).to.include('Web App');
      expect(await storedSessions()).to.equal(0);
    });

    it('refuses an unregistered post-logout address as before, storing nothing', async () => {
      const url = new URL(endSession());
      url.search = new URLSearchParams({ client_id: seeded.web.clientId, post_logout_redirect_uri: 'https://evil.example.com/' }).toString();
      const response = await new UserAgent().request(url.href, { headers: { accept: 'text/html' } });
      expect(response.status).to.equal(400);
      expect(response.headers.get('location')).to.equal(null);
      expect(await storedSessions()).to.equal(0);
    });

    it('a stale session cookie (the session ended) is cleared, and nothing is stored', async () => {
      const agent = new UserAgent();
      const auth = new URL(`${issuer}${layout === 'keycloak' ? '/protocol/openid-connect/auth' : '/auth'}`);
      auth.search = new URLSearchParams({ client_id: seeded.web.clientId, response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid', ...CHALLENGE }).toString();
      await signIn(agent, auth.href, REDIRECT_URI, { username: seeded.user.username, password: PASSWORD });
      expect(agent.cookies.has('_session')).to.equal(true);
      expect(await storedSessions()).to.be.greaterThan(0);
      await gatehouse.services.revocation.revokeByAccountId(seeded.user.id);
      const before = await storedSessions();
      const response = await agent.request(endSession());
      expect(response.status).to.equal(303);
      expect(response.headers.get('location')).to.equal(`${endSession()}/success`);
      expect(agent.cookies.has('_session')).to.equal(false);
      expect(await storedSessions()).to.equal(before);
    });

    it("another page's form secret (the device code page) is kept for an hour at most, not the session lifetime", async () => {
      const agent = new UserAgent();
      const page = await agent.request(`${issuer}/device`);
      // Stored before the answer came: an hour from then at most (a second for whole-second expiries).
      const answered = Date.now();
      expect(page.status).to.equal(200);
      const records = await connection.db!.collection<{ _id: string; expiresAt?: Date; accountId?: string }>('oidc_session').find({}).toArray();
      const [record] = records.filter((doc) => !doc._id.startsWith('uid:') && doc.accountId === undefined);
      expect(record, 'the form secret is kept (the form posts it back)').to.not.equal(undefined);
      expect(record!.expiresAt!.getTime() - answered).to.be.at.most(3600_000 + 1_000);
    });

    it('someone signed in still gets the question', async () => {
      const agent = new UserAgent();
      const auth = new URL(`${issuer}${layout === 'keycloak' ? '/protocol/openid-connect/auth' : '/auth'}`);
      auth.search = new URLSearchParams({ client_id: seeded.web.clientId, response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid', ...CHALLENGE }).toString();
      await signIn(agent, auth.href, REDIRECT_URI, { username: seeded.user.username, password: PASSWORD });
      const response = await agent.request(endSession());
      expect(response.status).to.equal(200);
      expect(await response.text()).to.include('Sign out');
    });
  });
}

for (const layout of ['gatehouse', 'keycloak'] as const) {
  describe(`the device authorization endpoint opened in a browser (${layout} layout)`, function () {
    this.timeout(120_000);
    let deploy: Deployment;
    let gatehouse: RunningGatehouse;
    let issuer: string;
    const device = () => `${issuer}${layout === 'keycloak' ? '/protocol/openid-connect/auth/device' : '/device/auth'}`;

    before(async () => {
      deploy = await deployment(`device_page_${layout}`, layout === 'keycloak' ? { settings: { GATEHOUSE_KEYCLOAK_REALM: 'acme' } } : {});
      gatehouse = await deploy.start();
      issuer = layout === 'keycloak' ? `${deploy.issuer}/realms/acme` : deploy.issuer;
    });
    after(async () => {
      await gatehouse?.close();
      await deploy?.drop();
    });

    it("leads to the code entry page, like Keycloak's /protocol/openid-connect/auth/device, keeping a user_code", async () => {
      const agent = new UserAgent();
      const bare = await agent.request(device(), { headers: { accept: 'text/html' } });
      expect(bare.status).to.equal(303);
      expect(bare.headers.get('location')).to.equal(`${issuer}/device`);
      const page = await agent.request(bare.headers.get('location')!);
      expect(page.status).to.equal(200);
      expect(await page.text()).to.include('name="user_code"');

      const withCode = await agent.request(`${device()}?user_code=WDJB-MJHT`);
      expect(withCode.status).to.equal(303);
      expect(withCode.headers.get('location')).to.equal(`${issuer}/device?user_code=WDJB-MJHT`);
    });

    it('the device authorization request itself (POST) is unchanged', async () => {
      const { client } = await gatehouse.services.clients.create({
        displayName: 'TV',
        metadata: { redirect_uris: [], response_types: [], grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], token_endpoint_auth_method: 'none' },
      });
      const response = await fetch(device(), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: client.clientId, scope: 'openid' }).toString(),
      });
      expect(response.status).to.equal(200);
      const body = (await response.json()) as { verification_uri: string; user_code: string };
      expect(body.verification_uri).to.equal(`${issuer}/device`);
    });
  });
}
