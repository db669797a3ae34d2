import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { upstreamOperations } from '../../src/operations/upstream.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { upstreamLinking } from '../../src/upstream/linking.ts';
import { adminClient, callAdmin, clientCredentials } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe24): a Keycloak-claims client_credentials token names its service account as Keycloak
 * does, preferred_username `service-account-<client id>` — README: "apps tell a service token by it"
 * (Spring's principal-attribute preferred_username, `authentication.name == 'service-account-…'`).
 * In Keycloak that name is the service account's own user, unique in the realm: no person holds it.
 * Here usernames are free: a just-in-time account from an upstream whose preferred_username is
 * `service-account-billing-worker` (a GitHub login may be) got exactly that username, and its user
 * tokens named it as the service's do. (A self-registration from such an address's local part, an
 * operator's or an import's user still can: src/accounts is another lane's.)
 */
const BILLING_API = 'https://billing.example.com';

describe("probe: a user named like a client's service account", function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;

  before(async () => {
    deploy = await deployment('probe_sa_name');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    await gatehouse.services.apis.create({ identifier: BILLING_API, scopes: ['read'], tokenClaims: 'keycloak' });
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it("a just-in-time account's tokens never carry a service account's preferred_username", async () => {
    const service = await callAdmin(gatehouse.url, token, 'POST', '/clients', { client_id: 'billing-worker', name: 'Billing worker', grant_types: ['client_credentials'], token_claims: 'keycloak', apis: [BILLING_API], default_api: BILLING_API });
    expect(service.status, JSON.stringify(service.body)).to.equal(201);
    const issued = await clientCredentials(gatehouse.url, 'billing-worker', service.body.client_secret as string);
    expect(issued.status, JSON.stringify(issued.body)).to.equal(200);
    const serviceName = decodeJwt(issued.body.access_token as string).preferred_username;
    expect(serviceName).to.equal('service-account-billing-worker');

    // An upstream sign-in whose preferred_username is that name: the account is made on the spot.
    const provider = await upstreamOperations(gatehouse.services).create({ actor: { type: 'system', id: 'probe' } }, { alias: 'gh', kind: 'oidc', display_name: 'GitHub-like', issuer: 'https://idp.example', client_id: 'gatehouse', client_secret: 'secret', scopes: ['openid', 'profile'] });
    const linking = upstreamLinking({ directory: gatehouse.services.upstream, accounts: gatehouse.services.accounts, users: gatehouse.services.users, audit: gatehouse.audit });
    const outcome = await linking.resolve(provider, { subject: 'gh-4242', claims: { sub: 'gh-4242', preferred_username: serviceName }, amr: [], idToken: undefined }, undefined);
    const pending = (outcome as Extract<typeof outcome, { kind: 'pending' }>).pending;
    const created = await linking.createFromPending(provider, pending, undefined);
    expect(created.kind).to.equal('signed_in');
    const userId = (created as { userId: string }).userId;

    // Signed in to a Keycloak-claims app (a password set here stands for the upstream sign-in).
    await gatehouse.services.accounts.setPassword(userId, PASSWORD);
    const username = (await gatehouse.services.accounts.findById(userId))!.username;
    const app = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'Keycloak-shaped app', redirect_uris: [REDIRECT_URI], first_party: true, token_claims: 'keycloak', apis: [BILLING_API], default_api: BILLING_API, login_uses_default_api: true });
    expect(app.status, JSON.stringify(app.body)).to.equal(201);
    const config = await relyingParty(deploy.issuer, app.body.client_id as string, app.body.client_secret as string);
    const request = await authorizationRequest(config, REDIRECT_URI, { scope: 'openid profile' });
    const { callback } = await signIn(new UserAgent(), request.url.href, REDIRECT_URI, { username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, callback, request.checks);
    expect(decodeJwt(tokens.access_token).preferred_username, 'a person whose access token names the service account').to.not.equal(serviceName);
    expect(decodeJwt(tokens.id_token!).preferred_username).to.not.equal(serviceName);

    // Nor in another case or width (resource servers may compare without case).
    for (const [subject, wanted] of [['gh-4243', 'Service-Account-Billing-Worker'], ['gh-4244', 'ｓｅｒｖｉｃｅ-account-billing-worker']] as const) {
      const next = await linking.resolve(provider, { subject, claims: { sub: subject, preferred_username: wanted }, amr: [], idToken: undefined }, undefined);
      const made = await linking.createFromPending(provider, (next as Extract<typeof next, { kind: 'pending' }>).pending, undefined);
      const name = (await gatehouse.services.accounts.findById((made as { userId: string }).userId))!.username;
      expect(name.normalize('NFKC').toLowerCase(), wanted).not.to.match(/^service-account-/);
    }
  });
});
