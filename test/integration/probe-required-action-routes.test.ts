import { expect } from 'chai';
import type * as oidc from 'openid-client';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { asPage, followTo, formsOf, signIn, submitForm, UserAgent, type AgentPage } from '../helpers/browserless.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';
import { authorizationRequest, PASSWORD, REDIRECT_URI, relyingParty, seededInstanceForSuite } from '../helpers/e2e.ts';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const follow = (agent: UserAgent, url: string) => followTo(agent, url, REDIRECT_URI);
/** The page's first form's action (`update-profile`, `login`, `confirm`, ...), or `callback`. */
const kind = (value: AgentPage | URL): string => (value instanceof URL ? 'callback' : (formsOf(value.html)[0]?.action.split('/').at(-1) ?? 'other'));

/**
 * Probe (probe22): required actions are asked "before any application gets a code or tokens".
 * Other roads to a code than a fresh sign-in: a browser already signed in when the operator set
 * the action (SSO, prompt=none), a second authorization of the same browser while the first waits
 * at the action's page, another step's form posted instead of the action's, and the device flow.
 */
describe('probe: required actions on every road to a code', () => {
  const suite = seededInstanceForSuite('probe_reqact');
  let web: oidc.Configuration;
  let admin: string;
  let n = 0;
  const api = (method: string, path: string, body?: unknown) => callAdmin(suite.gatehouse.url, admin, method, path, body);

  before(async () => {
    web = await relyingParty(suite.deploy.issuer, suite.cast.web.clientId, suite.cast.web.secret);
    admin = await (await adminClient(suite.gatehouse)).token();
  });

  async function newUser() {
    const username = `pr${++n}${Math.random().toString(36).slice(2, 6)}`;
    const created = await api('POST', '/users', { username, password: PASSWORD, email: `${username}@example.com`, email_verified: true });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    return { id: created.body.id as string, username };
  }

  it('a browser signed in before the operator set update_profile: prompt=none gets an error, a plain request the action, never a code', async () => {
    const user = await newUser();
    const agent = new UserAgent();
    const first = await authorizationRequest(web, REDIRECT_URI);
    const { callback } = await signIn(agent, first.url.href, REDIRECT_URI, { username: user.username, password: PASSWORD });
    expect(callback.searchParams.get('code')).to.be.a('string');

    expect((await api('PATCH', `/users/${user.id}`, { required_actions: ['update_profile'] })).status).to.equal(200);
    const silent = await authorizationRequest(web, REDIRECT_URI, { prompt: 'none' });
    const answer = await follow(agent, silent.url.href);
    expect(answer, 'prompt=none ends at the app').to.be.instanceOf(URL);
    const url = answer as URL;
    expect(url.searchParams.get('code'), 'no code while an action is pending').to.equal(null);
    expect(url.searchParams.get('error')).to.be.oneOf(['interaction_required', 'login_required', 'consent_required']);

    const plain = await authorizationRequest(web, REDIRECT_URI);
    expect(kind(await follow(agent, plain.url.href))).to.equal('update-profile');
  });

  it('a second authorization while the first waits at the action: it asks too, and posting another step\'s form instead gives no code', async () => {
    const user = await newUser();
    expect((await api('PATCH', `/users/${user.id}`, { required_actions: ['update_profile'] })).status).to.equal(200);
    const agent = new UserAgent();
    const first = await authorizationRequest(web, REDIRECT_URI);
    const login = asPage(await follow(agent, first.url.href));
    const waiting = asPage(await submitForm(agent, login, 'login', { login: user.username, password: PASSWORD, remember: 'yes' }, REDIRECT_URI));
    expect(kind(waiting)).to.equal('update-profile');

    const second = await authorizationRequest(web, REDIRECT_URI);
    const page = asPage(await follow(agent, second.url.href));
    expect(kind(page)).to.equal('update-profile');
    // The consent step's confirm, the sign-in form again, and an abort-free "continue": none of them is the action.
    for (const [action, fields] of [
      ['confirm', {}],
      ['login', { login: user.username, password: PASSWORD }],
      ['continue', {}],
    ] as const) {
      const base = formsOf(page.html)[0]!;
      const forged: AgentPage = { ...page, html: page.html.replace(base.action, base.action.replace(/update-profile$/, action)) };
      const outcome = await submitForm(agent, forged, action, fields, REDIRECT_URI).catch((error: unknown) => error);
      if (outcome instanceof URL) expect(outcome.searchParams.get('code'), `${action}: no code`).to.equal(null);
    }
    // Both interactions still ask for the names; the user has not given them.
    expect(kind(await follow(agent, (await authorizationRequest(web, REDIRECT_URI)).url.href))).to.equal('update-profile');
    expect((await api('GET', `/users/${user.id}`)).body.required_actions).to.deep.equal(['update_profile']);
  });

  it('the device flow: the action is asked at the device page, and the device gets no tokens until it is done', async () => {
    const user = await newUser();
    expect((await api('PATCH', `/users/${user.id}`, { required_actions: ['update_profile'] })).status).to.equal(200);
    const created = await suite.gatehouse.services.clients.create({
      displayName: 'TV',
      firstParty: true,
      metadata: { redirect_uris: [], response_types: [], grant_types: [DEVICE_GRANT], token_endpoint_auth_method: 'client_secret_basic' },
    });
    const auth = clientSecretBasic(created.client.clientId, created.secret!);
    const started = await fetch(`${suite.gatehouse.url}/device/auth`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'scope=openid' });
    const device = (await started.json()) as Record<string, string>;
    expect(started.status, JSON.stringify(device)).to.equal(200);

    const agent = new UserAgent();
    let page = asPage(await follow(agent, device.verification_uri_complete!));
    // The user-code confirmation (if any), then the sign-in.
    for (let i = 0; i < 3 && kind(page) !== 'login'; i += 1) {
      const form = formsOf(page.html)[0]!;
      const response = await agent.postForm(new URL(form.action, page.url).toString(), { ...form.fields, user_code: device.user_code!, confirm: 'yes' });
      page = asPage(response.status >= 300 && response.status < 400 ? await follow(agent, new URL(response.headers.get('location')!, page.url).toString()) : { url: page.url, status: response.status, html: await response.text() });
    }
    expect(kind(page)).to.equal('login');
    const after = asPage(await submitForm(agent, page, 'login', { login: user.username, password: PASSWORD, remember: 'yes' }, REDIRECT_URI));
    expect(kind(after)).to.equal('update-profile');

    const poll = await fetch(`${suite.gatehouse.url}/token`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: DEVICE_GRANT, device_code: device.device_code! }).toString() });
    const polled = (await poll.json()) as Record<string, unknown>;
    expect(polled, 'no tokens before the action').not.to.have.property('access_token');
    expect(polled.error).to.equal('authorization_pending');
  });
});
