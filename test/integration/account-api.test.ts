import { expect } from 'chai';
import mongoose from 'mongoose';
import * as oidc from 'openid-client';
import { ACCOUNT_CLIENT_ID } from '../../src/clients/account-client.ts';
import { CONSOLE_CLIENT_ID } from '../../src/clients/console-client.ts';
import { PROBLEMS, problemText, type ProblemCode, type ProblemParams } from '../../src/errors/problems.ts';
import { totpCode } from '../../src/mfa/totp.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { formsOf, signIn, UserAgent } from '../helpers/browserless.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';
import { API, authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown> & { details?: Array<{ path: string }> };
  readonly headers: Headers;
}

describe('account API (the account page\'s own tokens; real stores)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let accountUrl: string;
  let api: string;
  let clockOffset = 0;
  const clock = () => new Date(Date.now() + clockOffset);

  let inbox: Inbox;

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('account_api', {
      secondFactorClock: clock,
      settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>', GATEHOUSE_MFA_REQUIRED_ROLES: 'finance', GATEHOUSE_MFA_REQUIRED_GROUPS: 'ops' },
    });
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    accountUrl = `${deploy.issuer}/account/`;
    api = `${deploy.issuer}/account/api/v1`;
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });
  afterEach(() => {
    clockOffset = 0;
  });

  async function call(token: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: { accept: 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Reply['body']), headers: response.headers };
  }

  /** Signs in to the account page the way the page does (code + PKCE, public client) in a fresh browser. */
  async function accountToken(username: string, password = PASSWORD, agent = new UserAgent()): Promise<{ token: string; agent: UserAgent }> {
    const config = await relyingParty(deploy.issuer, ACCOUNT_CLIENT_ID);
    const request = await authorizationRequest(config, accountUrl);
    const { callback, sawConsent } = await signIn(agent, request.url.href, accountUrl, { username, password });
    expect(sawConsent, 'the account page is first party: no consent page').to.equal(false);
    const tokens = await oidc.authorizationCodeGrant(config, callback, request.checks);
    return { token: tokens.access_token, agent };
  }

  /** The seeded confidential web app, signed in with consent and offline_access: its refresh token. */
  async function webAppRefreshToken(username: string, agent: UserAgent, extra: Record<string, string> = {}): Promise<string> {
    const config = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const request = await authorizationRequest(config, REDIRECT_URI, { scope: 'openid profile offline_access', prompt: 'consent', ...extra });
    const { callback } = await signIn(agent, request.url.href, REDIRECT_URI, { username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, callback, request.checks);
    expect(tokens.refresh_token).to.be.a('string');
    return tokens.refresh_token!;
  }

  async function introspect(token: string): Promise<boolean> {
    const config = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    return (await oidc.tokenIntrospection(config, token)).active;
  }

  /**
   * Writes fields of a user's document behind the services' back. Pending batched writes go
   * first: FerretDB v1 applies an update as a read-modify-write of the whole document, so the
   * last-sign-in batch of a sign-in just made, landing at the same moment, would write the old
   * fields back over these.
   */
  async function rawUserUpdate(id: string, set: Record<string, unknown>): Promise<void> {
    await gatehouse.flushBatchedWrites();
    const connection = await mongoose.createConnection(deploy.mongodbUri).asPromise();
    try {
      await connection.db!.collection('users').updateOne({ _id: id as never }, { $set: set });
    } finally {
      await connection.close();
    }
  }

  async function newUser(name: string): Promise<{ id: string; username: string }> {
    const user = await gatehouse.services.accounts.createUser({ username: `${name}${Math.random().toString(36).slice(2, 8)}`, password: PASSWORD });
    return { id: user.id, username: user.username };
  }

  /** A password rule the new password breaks, as the account API names it: on `new_password`, by its code. */
  const rule = (code: ProblemCode, params?: ProblemParams) => ({ path: 'new_password', message: problemText(code, params), code, ...(params === undefined ? {} : { params }) });

  describe('who may call it', () => {
    it('401 with a Bearer challenge without a token, with a garbage token, with the session cookie alone (no CSRF), and with another client\'s token', async () => {
      const bare = await call(undefined, 'GET', '/profile');
      expect(bare.status).to.equal(401);
      expect(bare.headers.get('www-authenticate')).to.match(/^Bearer error="invalid_token"/);
      expect(bare.body).to.include({ code: 'account_token_missing' });
      expect((await call('garbage', 'GET', '/profile')).status).to.equal(401);

      // Signed in to Gatehouse in this "browser": its cookies alone open nothing.
      const { agent } = await accountToken(cast.user.username);
      const withCookies = await fetch(`${api}/sessions`, { method: 'DELETE', headers: { cookie: agent.cookieHeader() } });
      expect(withCookies.status).to.equal(401);
      expect((await gatehouse.services.revocation.listSessions(cast.user.id)).length).to.be.greaterThan(0);

      // A token of another application (the seeded first-party SPA) is not the account page's.
      const spa = await relyingParty(deploy.issuer, cast.spa.clientId);
      const request = await authorizationRequest(spa, 'https://spa.example.com/cb');
      const { callback } = await signIn(agent, request.url.href, 'https://spa.example.com/cb', { username: cast.user.username, password: PASSWORD });
      const spaTokens = await oidc.authorizationCodeGrant(spa, callback, request.checks);
      const foreign = await call(spaTokens.access_token, 'GET', '/profile');
      expect(foreign.status).to.equal(401);
      expect(foreign.body.error_description).to.include('account page');
      expect(foreign.body.code).to.equal('account_token_other_client');
    });

    it('refuses a request from another origin, even with a valid token', async () => {
      const { token } = await accountToken(cast.user.username);
      const reply = await call(token, 'DELETE', '/sessions', undefined, { origin: 'https://evil.example' });
      expect(reply.status).to.equal(403);
      expect(reply.body).to.include({ error: 'forbidden', code: 'cross_origin' });
      expect((await call(token, 'GET', '/profile', undefined, { origin: new URL(deploy.issuer).origin })).status).to.equal(200);
    });

    it('a disabled user\'s token stops working at once', async () => {
      const user = await newUser('dora');
      const { token } = await accountToken(user.username);
      expect((await call(token, 'GET', '/profile')).status).to.equal(200);
      await gatehouse.services.accounts.disable(user.id);
      const refused = await call(token, 'GET', '/profile');
      expect(refused.status).to.equal(401);
      expect(refused.body.code).to.equal('token_user_gone');
    });
  });

  describe('profile and password', () => {
    it('shows and edits the user\'s own profile (a new email gets a verification link); roles and email_verified are not theirs to set', async () => {
      const user = await newUser('pat');
      const { token } = await accountToken(user.username);
      const shown = await call(token, 'GET', '/profile');
      expect(shown.body).to.include({ id: user.id, username: user.username });
      const edited = await call(token, 'PATCH', '/profile', { name: 'Pat Smith', given_name: 'Pat', locale: 'ru', email: `${user.username}@example.com` });
      expect(edited.status).to.equal(200);
      expect(edited.body).to.include({ name: 'Pat Smith', locale: 'ru', email_verified: false });
      // The new address gets a verification link; following it verifies the address.
      const mail = await inbox.next();
      expect(mail.to && 'text' in mail.to ? mail.to.text : '').to.include(`${user.username}@example.com`);
      const link = /https?:\/\/\S+\/email\/verify\/[A-Za-z0-9_-]{43}/.exec(mail.text ?? '')?.[0];
      expect(link, mail.text).to.be.a('string');
      const agent = new UserAgent();
      const [form] = formsOf(await (await agent.request(link!)).text());
      expect((await agent.postForm(new URL(form!.action, link).toString(), form!.fields)).status).to.equal(200);
      expect((await call(token, 'GET', '/profile')).body.email_verified).to.equal(true);
      for (const field of ['roles', 'email_verified', 'username']) {
        const refused = await call(token, 'PATCH', '/profile', { [field]: field === 'email_verified' ? true : ['admin'] });
        expect(refused.status, field).to.equal(400);
      }
      expect((await gatehouse.services.accounts.findById(user.id))!.roles).to.deep.equal([]);
      const bad = await call(token, 'PATCH', '/profile', { locale: 'not a locale!' });
      expect(bad.status).to.equal(400);
      expect(bad.body.details).to.deep.equal([{ path: 'locale', message: PROBLEMS.language_tag, code: 'language_tag' }]);
      // Half of a character (JSON's "\ud800") would be stored as U+FFFD: refused naming the field.
      const half = await call(token, 'PATCH', '/profile', { name: 'Pat \ud83d' });
      expect(half.status).to.equal(400);
      expect(half.body.details).to.deep.equal([{ path: 'name', message: PROBLEMS.lone_surrogate, code: 'lone_surrogate' }]);
      // A save naming nothing is refused, not audited as an update of nothing (as the admin API's PATCH).
      await gatehouse.audit.flush();
      const updatesBefore = (await gatehouse.services.audit.query({ users: [user.id], types: ['user.updated'], limit: 50 })).events.length;
      const nothing = await call(token, 'PATCH', '/profile', {});
      expect(nothing.status).to.equal(400);
      expect(nothing.body.details?.[0]).to.deep.include({ code: 'nothing_to_change' });
      await gatehouse.audit.flush();
      expect((await gatehouse.services.audit.query({ users: [user.id], types: ['user.updated'], limit: 50 })).events).to.have.length(updatesBefore);
    });

    it('a new email address needs a recent sign-in (step-up): it is where password-reset links go, so a borrowed token must not redirect them', async () => {
      const user = await newUser('eve');
      const { token } = await accountToken(user.username);
      const first = await call(token, 'PATCH', '/profile', { email: `${user.username}@example.com` });
      expect(first.status, 'right after signing in').to.equal(200);
      // The new address is the account's once its link is followed.
      const link = /https?:\/\/\S+\/email\/verify\/[A-Za-z0-9_-]{43}/.exec((await inbox.next()).text ?? '')?.[0];
      const agent = new UserAgent();
      const [form] = formsOf(await (await agent.request(link!)).text());
      expect((await agent.postForm(new URL(form!.action, link).toString(), form!.fields)).status).to.equal(200);
      clockOffset = 10 * 60 * 1000;
      for (const email of [`attacker-${user.username}@evil.example`, null]) {
        const stale = await call(token, 'PATCH', '/profile', { name: 'Still Me', email });
        expect(stale.status, String(email)).to.equal(401);
        expect(stale.body).to.include({ error: 'insufficient_user_authentication', code: 'sign_in_again' });
        expect(stale.headers.get('www-authenticate')).to.match(/error="insufficient_user_authentication".*max_age=300/);
      }
      const kept = await gatehouse.services.accounts.findById(user.id);
      expect(kept).to.include({ email: `${user.username}@example.com`, name: null });
      // Everything else needs no fresh sign-in.
      const edited = await call(token, 'PATCH', '/profile', { name: 'Still Me', nickname: 'me' });
      expect(edited.status, JSON.stringify(edited.body)).to.equal(200);
      expect(edited.body).to.include({ name: 'Still Me', email: `${user.username}@example.com` });
    });

    it("an email address another account uses is a 409 naming the field, by its code (never a 500)", async () => {
      const owner = await gatehouse.services.accounts.createUser({ username: `own${Math.random().toString(36).slice(2, 8)}`, password: PASSWORD, email: `owner-${Date.now()}@example.com` });
      const user = await newUser('dup');
      const { token } = await accountToken(user.username);
      const taken = await call(token, 'PATCH', '/profile', { email: owner.email!.toUpperCase() });
      expect(taken.status, JSON.stringify(taken.body)).to.equal(409);
      expect(taken.body.details).to.deep.equal([{ path: 'email', message: PROBLEMS.already_in_use, code: 'already_in_use' }]);
    });

    it('a password changed on the account page ends a pending required password change (update_password), audited', async () => {
      const user = await newUser('temp');
      const { token } = await accountToken(user.username);
      // Set after the sign-in (a temporary password's action): the account page's own change does it.
      await gatehouse.services.accounts.addRequiredActions(user.id, ['update_password', 'update_profile']);
      const changed = await call(token, 'POST', '/password', { current_password: PASSWORD, new_password: 'a brand new passphrase' });
      expect(changed.status).to.equal(200);
      expect((await gatehouse.services.accounts.findById(user.id))?.requiredActions).to.deep.equal(['update_profile']);
      await gatehouse.flushBatchedWrites();
      const { events } = await gatehouse.services.audit.query({ types: ['user.required_action_completed'], users: [user.id], limit: 10 });
      expect(events.map((event) => event.details)).to.deep.equal([{ action: 'update_password' }]);
    });

    it('changes the password only with the current one, applies the policy, audits it, and can end the other sessions', async () => {
      const user = await newUser('max');
      const { token } = await accountToken(user.username);
      const elsewhere = await webAppRefreshToken(user.username, new UserAgent());
      const wrong = await call(token, 'POST', '/password', { current_password: 'not it', new_password: 'a brand new passphrase' });
      expect(wrong.status).to.equal(400);
      expect(wrong.body.details).to.deep.equal([{ path: 'current_password', message: PROBLEMS.not_current_password, code: 'not_current_password' }]);
      const short = await call(token, 'POST', '/password', { current_password: PASSWORD, new_password: 'short' });
      expect(short.status).to.equal(400);
      expect(short.body.details).to.deep.equal([rule('password_too_short', { limit: 8 })]);
      // Each rule broken is a detail named by its code, its number in params (the page words it).
      const policy = gatehouse.services.runtimeSettings.passwordPolicy;
      await policy.update({ password_digits: 2, password_not_username: true, password_history: 2 });
      try {
        const weak = await call(token, 'POST', '/password', { current_password: PASSWORD, new_password: 'weak passphrase' });
        expect(weak.body.details).to.deep.equal([rule('password_digits', { limit: 2 })]);
        const named = await call(token, 'POST', '/password', { current_password: PASSWORD, new_password: `${user.username.toUpperCase()}` });
        expect(named.body.details).to.deep.include(rule('password_not_username'));
        // The history is checked once the other rules are met: the current password is refused.
        await policy.update({ password_digits: null });
        const same = await call(token, 'POST', '/password', { current_password: PASSWORD, new_password: PASSWORD });
        expect(same.status).to.equal(400);
        expect(same.body.details).to.deep.equal([rule('password_history', { limit: 2 })]);
      } finally {
        await policy.update({ password_digits: null, password_not_username: null, password_history: null });
      }
      const changed = await call(token, 'POST', '/password', { current_password: PASSWORD, new_password: 'a brand new passphrase', sign_out_others: true });
      expect(changed.status).to.equal(200);
      expect(changed.body.signed_out_sessions).to.equal(1);
      expect(await introspect(elsewhere)).to.equal(false);
      // The account page's own session goes on.
      expect((await call(token, 'GET', '/profile')).status).to.equal(200);
      const old = await gatehouse.services.accounts.authenticate(user.username, PASSWORD, '198.51.100.7');
      expect(old.ok).to.equal(false);
      expect((await gatehouse.services.accounts.authenticate(user.username, 'a brand new passphrase', '198.51.100.7')).ok).to.equal(true);
      await gatehouse.flushBatchedWrites();
      const { events } = await gatehouse.services.audit.query({ types: ['user.password_changed'], users: [user.id], limit: 10 });
      const event = events.find((e) => e.target?.id === user.id);
      expect(event?.actor).to.include({ type: 'user', id: user.id });
      expect(event?.client).to.equal(ACCOUNT_CLIENT_ID);
      expect(JSON.stringify(event)).to.not.include('brand new');
    });
  });

  describe('a user without a password (upstream or passkey-only)', () => {
    const dropPassword = (id: string) => rawUserUpdate(id, { passwordHash: null, passwordChangedAt: null });

    it('sets a first password with a recent sign-in instead of the current one; the policy applies; audited', async () => {
      const user = await newUser('pia');
      const { token } = await accountToken(user.username);
      expect((await call(token, 'GET', '/profile')).body.has_password).to.equal(true);
      // Someone with a password changes it with the current one: this route is not a way around that.
      const taken = await call(token, 'POST', '/password/new', { new_password: 'a brand new passphrase' });
      expect(taken.status).to.equal(409);
      expect(taken.body).to.deep.include({ code: 'password_exists', details: [{ path: 'current_password', message: PROBLEMS.password_exists, code: 'password_exists' }] });
      await dropPassword(user.id);
      expect((await call(token, 'GET', '/profile')).body.has_password).to.equal(false);

      clockOffset = 10 * 60 * 1000;
      const stale = await call(token, 'POST', '/password/new', { new_password: 'a brand new passphrase' });
      expect(stale.status).to.equal(401);
      expect(stale.body.error).to.equal('insufficient_user_authentication');
      clockOffset = 0;
      const short = await call(token, 'POST', '/password/new', { new_password: 'short' });
      expect(short.status).to.equal(400);
      expect(short.body.details![0]!.path).to.equal('new_password');
      const set = await call(token, 'POST', '/password/new', { new_password: 'a brand new passphrase' });
      expect(set.status, JSON.stringify(set.body)).to.equal(204);
      expect((await call(token, 'GET', '/profile')).body.has_password).to.equal(true);
      expect((await gatehouse.services.accounts.authenticate(user.username, 'a brand new passphrase', '198.51.100.8')).ok).to.equal(true);
      expect((await call(token, 'POST', '/password/new', { new_password: 'another new passphrase' })).status, 'only the first one').to.equal(409);
      await gatehouse.flushBatchedWrites();
      const { events } = await gatehouse.services.audit.query({ types: ['user.password_added'], users: [user.id], limit: 10 });
      expect(events).to.have.length(1);
      expect(events[0]!.actor).to.include({ type: 'user', id: user.id });
      expect(events[0]!.client).to.equal(ACCOUNT_CLIENT_ID);
      expect(JSON.stringify(events[0])).to.not.include('brand new');
    });

    it('keeps the last passkey of a user with no password and no upstream link (their only way in); with another way first, it goes', async () => {
      const user = await newUser('quin');
      const { token } = await accountToken(user.username);
      await dropPassword(user.id);
      await rawPasskey(user.id, `quin-key-${user.id}`);
      const refused = await call(token, 'DELETE', `/mfa/passkeys/quin-key-${user.id}`);
      expect(refused.status, JSON.stringify(refused.body)).to.equal(409);
      expect(refused.body).to.deep.include({ error: 'conflict', code: 'last_sign_in_method', details: [{ path: 'passkey', message: PROBLEMS.last_sign_in_method, code: 'last_sign_in_method' }] });
      expect(await gatehouse.services.passkeys.list(user.id)).to.have.length(1);

      // Another passkey first: either may go, but not the last one.
      await rawPasskey(user.id, `quin-spare-${user.id}`);
      expect((await call(token, 'DELETE', `/mfa/passkeys/quin-spare-${user.id}`)).status).to.equal(204);
      expect((await call(token, 'DELETE', `/mfa/passkeys/quin-key-${user.id}`)).status).to.equal(409);

      // An upstream link is a way in: the passkey goes, and then the link is the last way in (the same rule).
      await gatehouse.services.upstream.link('corp', `quin-${user.id}`, user.id);
      expect((await call(token, 'DELETE', `/mfa/passkeys/quin-key-${user.id}`)).status).to.equal(204);
      expect(await gatehouse.services.passkeys.list(user.id)).to.have.length(0);
      const lastLink = await call(token, 'DELETE', `/upstream-links/corp/quin-${user.id}`);
      expect(lastLink.status).to.equal(409);
      expect(lastLink.body.details).to.deep.equal([{ path: 'upstream_link', message: PROBLEMS.last_sign_in_method, code: 'last_sign_in_method' }]);

      // A password is a way in: the last passkey of a user with one goes.
      await rawPasskey(user.id, `quin-key2-${user.id}`);
      await gatehouse.services.upstream.unlink(user.id, 'corp', `quin-${user.id}`);
      expect((await call(token, 'DELETE', `/mfa/passkeys/quin-key2-${user.id}`)).status).to.equal(409);
      await gatehouse.services.accounts.setPassword(user.id, 'a brand new passphrase');
      expect((await call(token, 'DELETE', `/mfa/passkeys/quin-key2-${user.id}`)).status).to.equal(204);
    });

    it('two DELETEs at once of a passkey-only user\'s last two passkeys: one goes, the other is refused (every round)', async () => {
      const user = await newUser('rex');
      const { token } = await accountToken(user.username);
      await dropPassword(user.id);
      const outcomes: string[] = [];
      for (let round = 1; round <= 10; round++) {
        const keys = [`rex-a${round}-${user.id}`, `rex-b${round}-${user.id}`];
        for (const key of keys) await rawPasskey(user.id, key);
        const statuses = (await Promise.all(keys.map((key) => call(token, 'DELETE', `/mfa/passkeys/${key}`)))).map((reply) => reply.status).sort();
        const left = (await gatehouse.services.passkeys.list(user.id)).length;
        if (JSON.stringify(statuses) !== '[204,409]' || left !== 1) outcomes.push(`round ${round}: ${JSON.stringify(statuses)}, ${left} left`);
        // The next round starts with none.
        await gatehouse.services.passkeys.removeAll(user.id);
      }
      expect(outcomes, 'rounds where both removals passed the check').to.deep.equal([]);
    });

    it('two first passwords sent at once: one is set, the other is refused 409 (every round)', async () => {
      const user = await newUser('sol');
      const { token } = await accountToken(user.username);
      const outcomes: string[] = [];
      for (let round = 1; round <= 6; round++) {
        await dropPassword(user.id);
        const passwords = [`first passphrase ${round} a`, `first passphrase ${round} b`];
        const statuses = (await Promise.all(passwords.map((password) => call(token, 'POST', '/password/new', { new_password: password })))).map((reply) => reply.status).sort();
        if (JSON.stringify(statuses) !== '[204,409]') outcomes.push(`round ${round}: ${JSON.stringify(statuses)}`);
      }
      expect(outcomes, 'rounds where both first passwords were set').to.deep.equal([]);
    });
  });

  describe('sessions and apps', () => {
    it('lists sessions with this one marked, ends another one and then all others; the ended session\'s refresh token is inactive at once', async () => {
      const user = await newUser('sam');
      const { token } = await accountToken(user.username);
      const laptop = new UserAgent();
      const laptopRefresh = await webAppRefreshToken(user.username, laptop);
      const phoneRefresh = await webAppRefreshToken(user.username, new UserAgent());
      const listed = (await call(token, 'GET', '/sessions')).body as unknown as Array<{ id: string; current: boolean; ip: string | null; device: string | null; last_seen_at: string | null; apps: Array<{ client_id: string; name: string }> }>;
      expect(listed).to.have.length(3);
      // Where each was last used from (the address and browser of its latest authorization).
      for (const session of listed) {
        expect(session.ip).to.match(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
        expect(session.device).to.be.a('string');
        expect(session.last_seen_at).to.be.a('string');
      }
      expect(listed[0]!.current).to.equal(true);
      expect(listed.filter((s) => s.current)).to.have.length(1);
      const others = listed.filter((s) => !s.current);
      expect(others[0]!.apps.map((a) => a.name)).to.include('Web App');

      const one = others[0]!;
      expect((await call(token, 'DELETE', `/sessions/${encodeURIComponent(one.id)}`)).status).to.equal(204);
      const actives = [await introspect(laptopRefresh), await introspect(phoneRefresh)];
      expect(actives.filter(Boolean)).to.have.length(1);
      const ended = await call(token, 'DELETE', '/sessions');
      expect(ended.body).to.deep.equal({ ended: 1 });
      expect(await introspect(laptopRefresh)).to.equal(false);
      expect(await introspect(phoneRefresh)).to.equal(false);
      const left = (await call(token, 'GET', '/sessions')).body as unknown as Array<{ current: boolean }>;
      expect(left.map((s) => s.current)).to.deep.equal([true]);
    });

    it('names the APIs an app may call by their display names beside their identifiers', async () => {
      const user = await newUser('api-names');
      const { token, agent } = await accountToken(user.username);
      await webAppRefreshToken(user.username, agent, { scope: 'openid offline_access read', resource: API });
      const apps = (await call(token, 'GET', '/apps')).body as unknown as Array<{ client_id: string; apis: string[]; api_details: unknown[] }>;
      expect(apps.map((a) => a.client_id)).to.deep.equal([cast.web.clientId]);
      expect(apps[0]!.apis).to.deep.equal([API]);
      expect(apps[0]!.api_details).to.deep.equal([{ identifier: API, name: 'Example API', gatehouse: null }]);
    });

    it("names Gatehouse's own admin API for the admin console, whose API scope is not listed again among the scopes (a first-party app's grant)", async () => {
      const user = await newUser('console-user');
      await gatehouse.services.users.update(user.id, { roles: ['admin'] });
      const { token, agent } = await accountToken(user.username);
      const consoleUrl = `${deploy.issuer}/console/`;
      const config = await relyingParty(deploy.issuer, CONSOLE_CLIENT_ID);
      const request = await authorizationRequest(config, consoleUrl, { scope: 'openid admin', resource: gatehouse.services.adminAudience });
      const { callback } = await signIn(agent, request.url.href, consoleUrl, { username: user.username, password: PASSWORD });
      await oidc.authorizationCodeGrant(config, callback, request.checks);
      const apps = (await call(token, 'GET', '/apps')).body as unknown as Array<{ client_id: string; scopes: string[]; api_details: Array<{ gatehouse: string | null }> }>;
      const app = apps.find((a) => a.client_id === CONSOLE_CLIENT_ID)!;
      expect(app.api_details.map((api) => api.gatehouse)).to.deep.equal(['admin']);
      // "Data in Gatehouse admin API" says it; a bare "admin" beside it is an unexplained word.
      expect(app.scopes).to.deep.equal(['openid']);
      // Nor does the grant itself hold it among its OpenID scopes (what operators see in the
      // admin API): a first-party app is granted what it asked for, each scope where it belongs.
      const grants = await gatehouse.services.revocation.listGrants(user.id);
      expect(grants.filter((grant) => grant.clientId === CONSOLE_CLIENT_ID).map(({ scope, resources }) => ({ scope, resources }))).to.deep.equal([
        { scope: 'openid', resources: [gatehouse.services.adminAudience] },
      ]);
    });

    it('lists the apps with their scopes (not the account page itself) and revoking one makes its refresh token inactive at once', async () => {
      const user = await newUser('ann');
      const { token, agent } = await accountToken(user.username);
      const refresh = await webAppRefreshToken(user.username, agent);
      expect(await introspect(refresh)).to.equal(true);
      const apps = (await call(token, 'GET', '/apps')).body as unknown as Array<{ client_id: string; name: string; scopes: string[] }>;
      expect(apps.map((a) => a.client_id)).to.deep.equal([cast.web.clientId]);
      expect(apps[0]!.name).to.equal('Web App');
      expect(apps[0]!.scopes).to.include.members(['openid', 'offline_access']);
      expect((await call(token, 'DELETE', `/apps/${encodeURIComponent(cast.web.clientId)}`)).status).to.equal(204);
      expect(await introspect(refresh)).to.equal(false);
      expect((await call(token, 'GET', '/apps')).body).to.deep.equal([]);
      expect((await call(token, 'DELETE', `/apps/${encodeURIComponent(cast.web.clientId)}`)).status).to.equal(404);
      // The account page's own grant is not listed, and cannot be revoked from here.
      expect((await call(token, 'DELETE', `/apps/${ACCOUNT_CLIENT_ID}`)).status).to.equal(404);
      expect((await call(token, 'GET', '/profile')).status).to.equal(200);
    });

    it('an app the user allowed stays listed after its sessions ended (the consent is kept); removing it removes the consent', async () => {
      const user = await newUser('cid');
      const { token } = await accountToken(user.username);
      const laptop = new UserAgent();
      await webAppRefreshToken(user.username, laptop);
      // Signed out of the app's session (ended elsewhere): no grant left, the consent stays.
      for (const session of await gatehouse.services.revocation.listSessions(user.id)) {
        if (session.clients.includes(cast.web.clientId)) await gatehouse.services.revocation.revokeSession(user.id, session.id);
      }
      expect((await gatehouse.services.revocation.listGrants(user.id)).filter((grant) => grant.clientId === cast.web.clientId)).to.deep.equal([]);
      const apps = (await call(token, 'GET', '/apps')).body as unknown as Array<{ client_id: string; scopes: string[]; granted_at: string | null }>;
      expect(apps.map((a) => a.client_id)).to.deep.equal([cast.web.clientId]);
      expect(apps[0]!.scopes).to.include('openid');
      expect(apps[0]!.granted_at).to.be.a('string');
      expect((await call(token, 'DELETE', `/apps/${encodeURIComponent(cast.web.clientId)}`)).status).to.equal(204);
      expect(await gatehouse.services.consents.find(user.id, cast.web.clientId)).to.equal(undefined);
      expect((await call(token, 'GET', '/apps')).body).to.deep.equal([]);
      await gatehouse.audit.flush();
      const revoked = await gatehouse.audit.query({ types: ['consent.revoked'], users: [user.id], limit: 10 });
      expect(revoked.events.map((event) => [event.actor.type, event.target?.id])).to.deep.equal([['user', cast.web.clientId]]);
    });

    describe('access a client holds through a token exchanged (RFC 8693) from an app whose own grant is gone', () => {
      const ORDERS = 'https://orders.example.com';
      const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
      interface ExchangedApp {
        client_id: string;
        name: string;
        scopes: string[];
        api_details: Array<{ name: string }>;
        via: unknown[];
        exchanged_from: Array<{ client_id: string | null; name: string | null; api_details: Array<{ identifier: string; name: string }> }>;
      }
      /** A gateway signing users in with the password grant, and a service trusted to exchange its tokens for the orders API. */
      async function gatewayAndCaller(label: string) {
        const { apis, clients } = gatehouse.services;
        if ((await apis.find(ORDERS)) === undefined) await apis.create({ identifier: ORDERS, name: 'Orders', scopes: ['read'] });
        const gw = await clients.create({
          displayName: `Gateway ${label}`,
          firstParty: true,
          allowedApis: [API],
          metadata: { redirect_uris: [], response_types: [], grant_types: ['refresh_token'], token_endpoint_auth_method: 'client_secret_basic', allow_password_grant: true },
        });
        const caller = await clients.create({
          displayName: `Orders caller ${label}`,
          allowedApis: [ORDERS],
          metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', token_exchange: { apis: [ORDERS], trusted_clients: [gw.client.clientId] } },
        });
        return {
          gatewayId: gw.client.clientId,
          gateway: await relyingParty(deploy.issuer, gw.client.clientId, gw.secret),
          callerId: caller.client.clientId,
          caller: await relyingParty(deploy.issuer, caller.client.clientId, caller.secret),
        };
      }
      /** The user signs in at the gateway; the caller exchanges that token for one to Orders. */
      async function exchangedFor(username: string, { gateway, caller }: Awaited<ReturnType<typeof gatewayAndCaller>>) {
        const subject = await oidc.genericGrantRequest(gateway, 'password', { username, password: PASSWORD, scope: 'openid offline_access read', resource: API });
        const exchanged = await oidc.genericGrantRequest(caller, EXCHANGE, { subject_token: subject.access_token, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', resource: ORDERS, scope: 'read' });
        return { subject, exchanged };
      }
      const appsOf = async (token: string) => (await call(token, 'GET', '/apps')).body as unknown as ExchangedApp[];
      /**
       * Deletes the client's grants of the user straight from the store, leaving the grants exchanged
       * from them, as versions before revocation removed those with their original did.
       */
      async function dropGrantLikeAnEarlierVersion(userId: string, clientId: string): Promise<void> {
        const connection = await mongoose.createConnection(deploy.mongodbUri).asPromise();
        try {
          expect((await connection.db!.collection('oidc_grant').deleteMany({ accountId: userId, clientId })).deletedCount).to.be.greaterThan(0);
        } finally {
          await connection.close();
        }
      }

      it("is listed as the exchanging client's, marked with the app it came from (by name while that app exists), and removing it revokes it, audited", async () => {
        const user = await newUser('exchanged');
        const { token } = await accountToken(user.username);
        const pair = await gatewayAndCaller('one');
        const { subject } = await exchangedFor(user.username, pair);
        // While the gateway's grant is in force: under the gateway.
        const before = await appsOf(token);
        expect(before.map((app) => app.client_id)).to.deep.equal([pair.gatewayId]);
        expect(before[0]!.via).to.have.length(1);

        // The gateway's grant ends (its refresh token revoked): the exchanged grant goes with it.
        await oidc.tokenRevocation(pair.gateway, subject.refresh_token!);
        expect(await appsOf(token)).to.deep.equal([]);

        // One left by an earlier version, which removed the original alone: the exchanging client's own entry.
        await exchangedFor(user.username, pair);
        await dropGrantLikeAnEarlierVersion(user.id, pair.gatewayId);
        const apps = await appsOf(token);
        expect(apps.map((app) => app.client_id)).to.deep.equal([pair.callerId]);
        expect(apps[0]).to.deep.include({ name: 'Orders caller one', scopes: [], api_details: [], via: [] });
        expect(apps[0]!.exchanged_from).to.deep.equal([{ client_id: pair.gatewayId, name: 'Gateway one', api_details: [{ identifier: ORDERS, name: 'Orders', gatehouse: null }] }]);

        expect((await call(token, 'DELETE', `/apps/${encodeURIComponent(pair.callerId)}`)).status).to.equal(204);
        expect(await appsOf(token)).to.deep.equal([]);
        const left = (await gatehouse.services.revocation.listGrants(user.id)).filter((grant) => grant.clientId === pair.callerId);
        expect(left).to.deep.equal([]);
        await gatehouse.audit.flush();
        const revoked = await gatehouse.audit.query({ types: ['grant.revoked'], users: [user.id], limit: 10 });
        expect(revoked.events.map((event) => [event.actor.type, event.actor.id, event.client])).to.deep.equal([['user', user.id, ACCOUNT_CLIENT_ID]]);
      });

      it('says "another app" when the app it came from was deleted, and stays when the user removes that app\'s access (listed apart)', async () => {
        const user = await newUser('exchanged-gone');
        const { token } = await accountToken(user.username);
        const deleted = await gatewayAndCaller('two');
        await exchangedFor(user.username, deleted);
        await dropGrantLikeAnEarlierVersion(user.id, deleted.gatewayId);
        expect(await gatehouse.services.clients.delete(deleted.gatewayId)).to.equal(true);
        const [app] = await appsOf(token);
        expect(app!.client_id).to.equal(deleted.callerId);
        expect(app!.exchanged_from).to.deep.equal([{ client_id: deleted.gatewayId, name: null, api_details: [{ identifier: ORDERS, name: 'Orders', gatehouse: null }] }]);

        // Removing the app it came from (still listed by the consent the user keeps) removes that app's
        // entry only: the exchanged access is the other client's entry, removed there.
        const kept = await gatewayAndCaller('three');
        await exchangedFor(user.username, kept);
        await gatehouse.services.consents.add(user.id, kept.gatewayId, { scopes: ['openid'], claims: [], resources: {} });
        await dropGrantLikeAnEarlierVersion(user.id, kept.gatewayId);
        expect((await call(token, 'DELETE', `/apps/${encodeURIComponent(kept.gatewayId)}`)).status).to.equal(204);
        expect((await appsOf(token)).map((listed) => listed.client_id).sort()).to.deep.equal([deleted.callerId, kept.callerId].sort());
        expect((await call(token, 'DELETE', `/apps/${encodeURIComponent(kept.callerId)}`)).status).to.equal(204);
        expect((await appsOf(token)).map((listed) => listed.client_id)).to.deep.equal([deleted.callerId]);
      });
    });

    it('user A cannot end user B\'s session, revoke B\'s app, nor rename or remove B\'s passkey', async () => {
      const a = await newUser('amy');
      const b = await newUser('bob');
      const { token } = await accountToken(a.username);
      const bRefresh = await webAppRefreshToken(b.username, new UserAgent());
      const [bSession] = await gatehouse.services.revocation.listSessions(b.id);
      expect((await call(token, 'DELETE', `/sessions/${encodeURIComponent(bSession!.id)}`)).status).to.equal(404);
      expect((await call(token, 'DELETE', `/apps/${encodeURIComponent(cast.web.clientId)}`)).status).to.equal(404);
      expect(await introspect(bRefresh)).to.equal(true);
      expect((await gatehouse.services.revocation.listSessions(b.id)).map((s) => s.id)).to.include(bSession!.id);

      // A passkey of B's, written straight to the store as a registration would.
      const bKey = 'b-passkey-credential-id';
      await rawPasskey(b.id, bKey);
      expect((await call(token, 'PATCH', `/mfa/passkeys/${bKey}`, { name: 'mine now' })).status).to.equal(404);
      expect((await call(token, 'DELETE', `/mfa/passkeys/${bKey}`)).status).to.equal(404);
      expect((await gatehouse.services.passkeys.list(b.id)).map((p) => p.name)).to.deep.equal(['Bob\'s key']);
    });
  });

  async function rawPasskey(userId: string, id: string): Promise<void> {
    const connection = await mongoose.createConnection(deploy.mongodbUri).asPromise();
    try {
      await connection.db!.collection('mfa_passkeys').insertOne({ _id: id as never, userId, publicKey: 'AA', counter: 0, transports: [], name: 'Bob\'s key', deviceType: 'singleDevice', createdAt: new Date(), lastUsedAt: null });
    } finally {
      await connection.close();
    }
  }

  describe('second factors', () => {
    it('changes to second factors need a recent sign-in (RFC 9470 step-up challenge with max_age)', async () => {
      const user = await newUser('tia');
      const { token } = await accountToken(user.username);
      clockOffset = 10 * 60 * 1000;
      for (const [method, path] of [['POST', '/mfa/totp'], ['POST', '/mfa/recovery-codes'], ['POST', '/mfa/passkeys/options'], ['DELETE', '/mfa/passkeys/x'], ['DELETE', '/mfa/totp']] as const) {
        const stale = await call(token, method, path);
        expect(stale.status, path).to.equal(401);
        expect(stale.body.error, path).to.equal('insufficient_user_authentication');
        expect(stale.headers.get('www-authenticate'), path).to.match(/error="insufficient_user_authentication".*max_age=300/);
      }
      // Reading them, and renaming a passkey, need no fresh sign-in.
      expect((await call(token, 'GET', '/mfa')).status).to.equal(200);
    });

    it('enrols an authenticator app (code from the secret), regenerates recovery codes, removes it again; all audited', async () => {
      const user = await newUser('otto');
      const { token } = await accountToken(user.username);
      expect((await call(token, 'POST', '/mfa/recovery-codes')).status).to.equal(409);
      const begun = await call(token, 'POST', '/mfa/totp');
      expect(begun.status).to.equal(200);
      const secret = begun.body.secret as string;
      expect(begun.body.uri).to.match(/^otpauth:\/\/totp\//);
      expect(begun.body.qr_svg).to.match(/^<svg/);
      const wrong = await call(token, 'POST', '/mfa/totp/confirm', { code: '000000' === totpCode(secret, clock()) ? '111111' : '000000' });
      expect(wrong.status).to.equal(400);
      expect(wrong.body.details).to.deep.equal([{ path: 'code', message: PROBLEMS.totp_code_rejected, code: 'totp_code_rejected' }]);
      const confirmed = await call(token, 'POST', '/mfa/totp/confirm', { code: totpCode(secret, clock()) });
      expect(confirmed.status).to.equal(200);
      expect(confirmed.body.recovery_codes).to.have.length(10);
      expect((await gatehouse.services.accounts.findById(user.id))!.secondFactor).to.equal(true);
      const status = (await call(token, 'GET', '/mfa')).body;
      expect(status).to.include({ enrolled: true, recovery_codes_left: 10 });
      expect((await call(token, 'POST', '/mfa/totp')).status, 'a second app while one is set up').to.equal(409);

      const fresh = await call(token, 'POST', '/mfa/recovery-codes');
      expect(fresh.body.recovery_codes).to.have.length(10);
      expect(fresh.body.recovery_codes).to.not.include.members(confirmed.body.recovery_codes as string[]);

      expect((await call(token, 'DELETE', '/mfa/totp')).status).to.equal(204);
      expect((await call(token, 'GET', '/mfa')).body).to.include({ enrolled: false, totp: null, recovery_codes_left: 0, passkeys_available: false });
      expect((await gatehouse.services.accounts.findById(user.id))!.secondFactor).to.equal(false);
      await gatehouse.flushBatchedWrites();
      const types = (await gatehouse.services.audit.query({ users: [user.id], limit: 200 })).events.map((e) => e.type);
      expect(types).to.include.members(['mfa.enrolled', 'mfa.recovery_codes_created', 'mfa.removed']);
    });

    it('keeps the last second factor while a role, group or app the user signs in to requires one; with another factor first, it goes', async () => {
      const user = await newUser('fay');
      // A grant with the web app, made before any rule applied to this user.
      await webAppRefreshToken(user.username, new UserAgent());
      const { token } = await accountToken(user.username);
      const secret = (await call(token, 'POST', '/mfa/totp')).body.secret as string;
      expect((await call(token, 'POST', '/mfa/totp/confirm', { code: totpCode(secret, clock()) })).status).to.equal(200);
      const membership = (set: { roles?: string[]; groups?: string[] }) => rawUserUpdate(user.id, set);
      const refusedWhile = async (why: string) => {
        const refused = await call(token, 'DELETE', '/mfa/totp');
        expect(refused.status, why).to.equal(409);
        expect(refused.body.details, why).to.deep.equal([{ path: 'factor', message: PROBLEMS.factor_required, code: 'factor_required' }]);
        expect((await call(token, 'GET', '/mfa')).body.enrolled, why).to.equal(true);
      };
      await membership({ roles: ['finance'] });
      await refusedWhile('role');
      await membership({ roles: [], groups: ['ops'] });
      await refusedWhile('group');
      await membership({ groups: [] });
      const web = (await gatehouse.services.clients.get(cast.web.clientId))!;
      await gatehouse.services.clients.update(cast.web.clientId, { metadata: { ...web.metadata, require_mfa: true } });
      try {
        await refusedWhile('an app with require_mfa the user has a grant for');
      } finally {
        await gatehouse.services.clients.update(cast.web.clientId, { metadata: web.metadata });
      }

      // With a passkey as well, either factor may go, but not the last one.
      await membership({ roles: ['finance'] });
      await rawPasskey(user.id, `fay-key-${user.id}`);
      expect((await call(token, 'DELETE', '/mfa/totp')).status).to.equal(204);
      const last = await call(token, 'DELETE', `/mfa/passkeys/fay-key-${user.id}`);
      expect(last.status).to.equal(409);
      expect(last.body.details).to.deep.equal([{ path: 'factor', message: PROBLEMS.factor_required, code: 'factor_required' }]);
      expect(await gatehouse.services.passkeys.list(user.id)).to.have.length(1);
      // No rule any more: the last one goes.
      await membership({ roles: [] });
      expect((await call(token, 'DELETE', `/mfa/passkeys/fay-key-${user.id}`)).status).to.equal(204);
    });

    it('a passkey ticket is bound to its user and refuses a forged response', async () => {
      const a = await newUser('ivy');
      const b = await newUser('jon');
      const { token: aToken } = await accountToken(a.username);
      const { token: bToken } = await accountToken(b.username);
      const options = await call(aToken, 'POST', '/mfa/passkeys/options');
      expect(options.status).to.equal(200);
      expect((options.body.options as { rp: { id: string } }).rp.id).to.equal('127.0.0.1');
      const ticket = options.body.ticket as string;
      const stolen = await call(bToken, 'POST', '/mfa/passkeys', { ticket, response: '{}', name: 'x' });
      expect(stolen.status).to.equal(400);
      expect(stolen.body.details).to.deep.equal([{ path: 'ticket', message: PROBLEMS.passkey_ticket_expired, code: 'passkey_ticket_expired' }]);
      const forged = await call(aToken, 'POST', '/mfa/passkeys', { ticket, response: JSON.stringify({ id: 'abc', rawId: 'abc', type: 'public-key', response: {} }), name: 'x' });
      expect(forged.status).to.equal(400);
      expect(forged.body.details).to.deep.equal([{ path: 'response', message: PROBLEMS.passkey_rejected, code: 'passkey_rejected' }]);
    });
  });
});
