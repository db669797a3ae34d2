import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { asPage, followTo, submitForm, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe23): a third-party app's default scopes are added after the library checked the
 * request. A user who allowed the app its defaults once (remembered) must be asked again when the
 * operator adds another default scope: a `prompt=none` request then ends in consent_required — the
 * new scope's claims never reach the app silently — and a fresh sign-in's consent page names it.
 */
describe('probe: a default scope added to a third-party app after the user consented', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

  before(async () => {
    deploy = await deployment('probe_defaults_consent');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    for (const [name, text] of [['department', 'See your department'], ['salary', 'See your salary band']] as const) {
      const scope = await call('POST', '/claim-scopes', { name, description: { en: text }, mappers: [{ type: 'user_attribute', attribute: name, claim: name }] });
      expect(scope.status, JSON.stringify(scope.body)).to.equal(201);
    }
    expect((await call('POST', '/users', { username: 'carla', password: PASSWORD, attributes: { department: 'eng', salary: 'B7' } })).status).to.equal(201);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('prompt=none after the operator adds a default scope: consent_required, and the next consent page asks for it', async () => {
    const created = await call('POST', '/clients', { name: 'Partner', redirect_uris: [REDIRECT_URI], scope: 'openid department salary', default_scopes: ['department'] });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const clientId = created.body.client_id as string;
    const app = await relyingParty(deploy.issuer, clientId, created.body.client_secret as string);
    const agent = new UserAgent();
    const first = await authorizationRequest(app, REDIRECT_URI, { scope: 'openid' });
    const login = asPage(await followTo(agent, first.url.toString(), REDIRECT_URI));
    const consent = asPage(await submitForm(agent, login, 'login', { login: 'carla', password: PASSWORD, remember: 'yes' }, REDIRECT_URI));
    expect(consent.html).to.contain('See your department');
    expect(consent.html).not.to.contain('See your salary band');
    const callback = await submitForm(agent, consent, 'confirm', {}, REDIRECT_URI);
    expect(callback).to.be.instanceOf(URL);
    const tokens = await oidc.authorizationCodeGrant(app, callback as URL, first.checks);
    expect(tokens.claims()).to.include({ department: 'eng' });
    expect(tokens.claims()).not.to.have.property('salary');

    // Silent re-authentication with what was allowed: no page, a code.
    const silent = await authorizationRequest(app, REDIRECT_URI, { scope: 'openid', prompt: 'none' });
    const quiet = await followTo(agent, silent.url.toString(), REDIRECT_URI);
    expect(quiet).to.be.instanceOf(URL);
    expect((quiet as URL).searchParams.get('code')).to.be.a('string');

    const widened = await call('PATCH', `/clients/${clientId}`, { default_scopes: ['department', 'salary'] });
    expect(widened.status, JSON.stringify(widened.body)).to.equal(200);
    const after = await authorizationRequest(app, REDIRECT_URI, { scope: 'openid', prompt: 'none' });
    const refused = await followTo(agent, after.url.toString(), REDIRECT_URI);
    expect(refused).to.be.instanceOf(URL);
    expect((refused as URL).searchParams.get('error')).to.equal('consent_required');
    expect((refused as URL).searchParams.get('code')).to.equal(null);

    const asked = await authorizationRequest(app, REDIRECT_URI, { scope: 'openid' });
    const page = asPage(await followTo(agent, asked.url.toString(), REDIRECT_URI));
    expect(page.html).to.contain('See your salary band');
  });
});
