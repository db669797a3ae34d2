import { expect } from 'chai';
import * as oidc from 'openid-client';
import { totpCode } from '../../src/mfa/totp.ts';
import { AUDIT_COLLECTION } from '../../src/observability/audit-trail.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { asPage, formsOf, followTo, submitForm, UserAgent, type AgentPage } from '../helpers/browserless.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { authorizationRequest, oauthError, PASSWORD, REDIRECT_URI, relyingParty, seededInstanceForSuite } from '../helpers/e2e.ts';

const follow = (agent: UserAgent, url: string) => followTo(agent, url, REDIRECT_URI);
const submit = (agent: UserAgent, page: AgentPage, action: string, fields: Record<string, string> = {}) => submitForm(agent, page, action, fields, REDIRECT_URI);
/** The page's first form's action (`update-password`, `enrol`, `login`, ...), or `callback`. */
const kind = (value: AgentPage | URL): string => (value instanceof URL ? 'callback' : (formsOf(value.html)[0]?.action.split('/').at(-1) ?? 'other'));
const secretOf = (html: string) => html.match(/<code id="secret">([A-Z2-7 ]+)<\/code>/)![1]!.replace(/ /g, '');
const continueOf = (page: AgentPage) => new URL(page.html.match(/class="button primary" href="([^"]+)"/)![1]!.replace(/&amp;/g, '&'), page.url).toString();
const NEW_PASSWORD = 'a brand new passphrase 42';

describe('required actions and temporary passwords (real provider, real stores, openid-client)', () => {
  // The second-factor service's clock: TOTP codes computed here match what it expects.
  const mfaNow = new Date('2026-03-01T10:00:10Z');
  const suite = seededInstanceForSuite('reqact', { secondFactorClock: () => mfaNow });
  let web: oidc.Configuration;
  let gateway: oidc.Configuration;
  let admin: string;
  let n = 0;

  before(async () => {
    const { gatehouse, cast } = suite;
    web = await relyingParty(suite.deploy.issuer, cast.web.clientId, cast.web.secret);
    const created = await gatehouse.services.clients.create({
      displayName: 'API gateway',
      firstParty: true,
      metadata: { redirect_uris: [], response_types: [], grant_types: ['refresh_token'], token_endpoint_auth_method: 'client_secret_basic', allow_password_grant: true },
    });
    gateway = await relyingParty(suite.deploy.issuer, created.client.clientId, created.secret!);
    admin = await (await adminClient(gatehouse)).token();
  });

  const api = (method: string, path: string, body?: unknown) => callAdmin(suite.gatehouse.url, admin, method, path, body);

  async function newUser(body: Record<string, unknown> = {}) {
    const username = `ra${++n}${Math.random().toString(36).slice(2, 6)}`;
    const created = await api('POST', '/users', { username, password: PASSWORD, email: `${username}@example.com`, email_verified: true, ...body });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    return { id: created.body.id as string, username, body: created.body };
  }

  async function afterPassword(agent: UserAgent, username: string, password = PASSWORD) {
    const request = await authorizationRequest(web, REDIRECT_URI);
    const login = asPage(await follow(agent, request.url.toString()));
    return { request, next: await submit(agent, login, 'login', { login: username, password, remember: 'yes' }) };
  }

  /** Consent (if asked) → callback → the code redeemed with openid-client. */
  async function tokensAt(agent: UserAgent, value: AgentPage | URL, request: Awaited<ReturnType<typeof authorizationRequest>>) {
    let step = value;
    if (kind(step) === 'confirm') step = await submit(agent, asPage(step), 'confirm');
    if (!(step instanceof URL)) throw new Error(`expected the callback, got ${kind(step)}: ${step.html.slice(0, 300)}`);
    return oidc.authorizationCodeGrant(web, step, request.checks);
  }

  async function auditTypes(userId: string): Promise<Array<{ type: string; details?: Record<string, unknown> }>> {
    await suite.gatehouse.services.audit.flush();
    const mongo = await connectMongo({ uri: suite.deploy.mongodbUri, timeoutMs: 5000 });
    try {
      return await mongo.db!.collection(AUDIT_COLLECTION).find({ 'target.id': userId }).sort({ _id: 1 }).toArray() as never;
    } finally {
      await mongo.close();
    }
  }

  it('refuses unknown required actions with a 400 naming the field and the value (create, update); GET shows them in order', async () => {
    const username = `rabad${Math.random().toString(36).slice(2, 6)}`;
    const refused = await api('POST', '/users', { username, password: PASSWORD, required_actions: ['update_password', 'TERMS_AND_CONDITIONS'] });
    expect(refused.status).to.equal(400);
    expect(JSON.stringify(refused.body)).to.contain('required_actions').and.contain('TERMS_AND_CONDITIONS');
    expect(refused.body.details[0].path).to.equal('required_actions.1');
    expect(refused.body.details[0].code).to.equal('unknown_required_action');

    const user = await newUser({ required_actions: ['update_profile', 'update_password', 'update_profile'] });
    expect(user.body.required_actions).to.deep.equal(['update_password', 'update_profile']);
    const patched = await api('PATCH', `/users/${user.id}`, { required_actions: ['configure_totp', 'nope'] });
    expect(patched.status).to.equal(400);
    expect(patched.body.details[0].path).to.equal('required_actions.1');
    expect(patched.body.details[0].message).to.contain('"nope" is not a required action (one of update_password, verify_email, configure_totp, update_profile)');
    expect((await api('GET', `/users/${user.id}`)).body.required_actions).to.deep.equal(['update_password', 'update_profile']);
    expect((await api('PATCH', `/users/${user.id}`, { required_actions: [] })).body.required_actions).to.deep.equal([]);
    expect((await api('PUT', `/users/${user.id}/password`, { password: PASSWORD, temporary: 'yes' })).status).to.equal(400);
  });

  it('a temporary password: no tokens (password grant refused, hosted sign-in asks for a new password) until the user has chosen another', async () => {
    const user = await newUser();
    // Another session of the user's, from before: ended by the change (the box is ticked).
    const other = new UserAgent();
    const earlier = await afterPassword(other, user.username);
    await tokensAt(other, earlier.next, earlier.request);
    expect(await suite.gatehouse.services.revocation.listSessions(user.id)).to.have.length(1);

    expect((await api('PUT', `/users/${user.id}/password`, { password: PASSWORD, temporary: true })).status).to.equal(204);
    expect((await api('GET', `/users/${user.id}`)).body.required_actions).to.deep.equal(['update_password']);

    const ropc = await oauthError(oidc.genericGrantRequest(gateway, 'password', { username: user.username, password: PASSWORD, scope: 'openid' }));
    expect(ropc.error).to.equal('invalid_grant');
    expect(ropc.description).to.match(/^Account is not fully set up/);

    const agent = new UserAgent();
    const { request, next } = await afterPassword(agent, user.username);
    const page = asPage(next);
    expect(kind(page)).to.equal('update-password');
    expect(page.html).to.contain('Your administrator asks you to choose a new password');

    const mismatch = asPage(await submit(agent, page, 'update-password', { password: NEW_PASSWORD, confirm: `${NEW_PASSWORD}!`, sign_out_others: 'yes' }));
    expect(mismatch.status).to.equal(400);
    expect(mismatch.html).to.contain('The two passwords differ');
    const same = asPage(await submit(agent, mismatch, 'update-password', { password: PASSWORD, confirm: PASSWORD, sign_out_others: 'yes' }));
    expect(same.status).to.equal(400);
    expect(same.html).to.contain('This is your current password');
    const weak = asPage(await submit(agent, same, 'update-password', { password: 'short', confirm: 'short', sign_out_others: 'yes' }));
    expect(weak.status).to.equal(400);
    expect(weak.html).to.contain('at least');
    expect((await api('GET', `/users/${user.id}`)).body.required_actions, 'nothing done yet').to.deep.equal(['update_password']);

    const done = await submit(agent, weak, 'update-password', { password: NEW_PASSWORD, confirm: NEW_PASSWORD, sign_out_others: 'yes' });
    const tokens = await tokensAt(agent, done, request);
    expect(tokens.claims()!.sub).to.equal(user.id);
    expect((await api('GET', `/users/${user.id}`)).body.required_actions).to.deep.equal([]);
    // The earlier session was signed out; the one signing in now stays.
    expect(await suite.gatehouse.services.revocation.listSessions(user.id)).to.have.length(1);

    // The new password works at the password grant, the old one no longer.
    const granted = await oidc.genericGrantRequest(gateway, 'password', { username: user.username, password: NEW_PASSWORD, scope: 'openid' });
    expect(granted.access_token).to.be.a('string');
    expect((await oauthError(oidc.genericGrantRequest(gateway, 'password', { username: user.username, password: PASSWORD, scope: 'openid' }))).error).to.equal('invalid_grant');

    const events = await auditTypes(user.id);
    expect(events.map((event) => event.type)).to.include.members(['user.password_set', 'user.required_actions_set', 'user.required_action_completed']);
    expect(events.find((event) => event.type === 'user.password_set')?.details).to.deep.equal({ temporary: true });
    expect(events.find((event) => event.type === 'user.required_action_completed')?.details).to.deep.equal({ action: 'update_password', signedOutSessions: 1 });
  });

  it('asks for each pending action in order (password, authenticator app, profile), removing each; tokens only after the last', async () => {
    const user = await newUser({ given_name: null, required_actions: ['update_profile', 'configure_totp', 'update_password'] });
    const agent = new UserAgent();
    const { request, next } = await afterPassword(agent, user.username);
    const first = asPage(next);
    expect(kind(first)).to.equal('update-password');
    const second = asPage(await submit(agent, first, 'update-password', { password: NEW_PASSWORD, confirm: NEW_PASSWORD }));
    expect(kind(second)).to.equal('enrol');
    expect((await api('GET', `/users/${user.id}`)).body.required_actions).to.deep.equal(['configure_totp', 'update_profile']);

    const wrong = asPage(await submit(agent, second, 'enrol', { code: totpCode(secretOf(second.html), mfaNow) === '000000' ? '111111' : '000000' }));
    expect(wrong.status).to.equal(400);
    const codes = asPage(await submit(agent, wrong, 'enrol', { code: totpCode(secretOf(wrong.html), mfaNow) }));
    expect(codes.html).to.contain('recovery');
    const third = asPage(await follow(agent, continueOf(codes)));
    expect(kind(third), 'no second-factor prompt right after the enrolment').to.equal('update-profile');
    const missing = asPage(await submit(agent, third, 'update-profile', { given_name: ' ', family_name: 'Hatter' }));
    expect(missing.status).to.equal(400);
    expect(missing.html).to.contain('Enter your first name and your last name');
    const tokens = await tokensAt(agent, await submit(agent, missing, 'update-profile', { given_name: 'Mad', family_name: 'Hatter' }), request);
    const claims = tokens.claims()!;
    expect(claims.amr).to.deep.equal(['pwd', 'otp', 'mfa']);
    const shown = (await api('GET', `/users/${user.id}`)).body;
    expect(shown.required_actions).to.deep.equal([]);
    expect([shown.given_name, shown.family_name]).to.deep.equal(['Mad', 'Hatter']);
    const completed = (await auditTypes(user.id)).filter((event) => event.type === 'user.required_action_completed').map((event) => event.details?.action);
    expect(completed).to.deep.equal(['update_password', 'configure_totp', 'update_profile']);
  });

  it('verify_email on a confirmed address has nothing to ask: the password grant lets the user through, the next sign-in removes it; an ordinary password set by an operator lifts update_password', async () => {
    const user = await newUser({ required_actions: ['verify_email', 'update_password'] });
    expect((await api('PUT', `/users/${user.id}/password`, { password: NEW_PASSWORD })).status).to.equal(204);
    expect((await api('GET', `/users/${user.id}`)).body.required_actions).to.deep.equal(['verify_email']);
    const granted = await oidc.genericGrantRequest(gateway, 'password', { username: user.username, password: NEW_PASSWORD, scope: 'openid' });
    expect(granted.access_token).to.be.a('string');
    const agent = new UserAgent();
    const { request, next } = await afterPassword(agent, user.username, NEW_PASSWORD);
    await tokensAt(agent, next, request);
    expect((await api('GET', `/users/${user.id}`)).body.required_actions).to.deep.equal([]);
  });
});
