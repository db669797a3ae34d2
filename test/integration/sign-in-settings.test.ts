import { expect } from 'chai';
import { callAdmin } from '../helpers/admin.ts';
import { formsOf, UserAgent } from '../helpers/browserless.ts';
import { testClock } from '../helpers/clock.ts';
import { PASSWORD } from '../helpers/e2e.ts';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { runCli } from '../helpers/process.ts';
import { startInbox } from '../helpers/smtp-inbox.ts';
import { forSuite } from '../helpers/suite.ts';
import { twoInstances } from '../helpers/two-instances.ts';

const offersRegistration = (html: string) => /href="[^"]*\/register"/.test(html);
const offersReset = (html: string) => html.includes('/password/forgot');

describe('runtime sign-in settings (admin API, CLI, two instances, environment pins)', function () {
  this.timeout(120_000);
  const inbox = forSuite(startInbox, (box) => box.close());

  describe('two instances sharing MongoDB and Redis', () => {
    // Frozen: no cache lifetime can run out during the test, so only the Redis notice can explain a change on B.
    const clock = testClock({ frozen: true });
    const c = forSuite(() => twoInstances('settings_redis', { mail: inbox, redis: true, clock }), (c) => c.stop());

    it('starts from the configured defaults, each with its variable and no pin', async () => {
      const shown = await callAdmin(c.a.url, await c.token(), 'GET', '/settings/sign-in');
      expect(shown.status).to.equal(200);
      expect(shown.body.email_configured).to.equal(true);
      expect(shown.body.updated_at).to.equal(null);
      expect(shown.body.settings.self_registration).to.deep.equal({ value: false, default: false, source: 'default', pinned_by: null, env: 'GATEHOUSE_SELF_REGISTRATION' });
      expect(shown.body.settings.password_reset).to.include({ value: true, source: 'default', pinned_by: null });
      expect(shown.body.settings.require_verified_email).to.include({ value: 'self-registered' });
      expect(shown.body.settings.email_verification_ttl).to.include({ value: 86_400 });
      expect(shown.body.settings.password_reset_ttl).to.include({ value: 1800 });
      expect(shown.body.settings.self_registration_domains).to.include({ source: 'default' });
      expect(shown.body.settings.self_registration_domains.value).to.deep.equal([]);
    });

    it('a change made on instance A shows on instance B\'s sign-in page at once (Redis notice), and is audited with before and after', async () => {
      const before = await c.signInPage(c.b);
      expect(offersRegistration(before.html), 'no "Create account" yet').to.equal(false);
      const refused = await before.agent.request(`${before.url}/register`);
      expect(refused.status, 'the registration URL refuses while it is off').to.equal(404);

      const changed = await callAdmin(c.a.url, await c.token(), 'PATCH', '/settings/sign-in', { self_registration: true, self_registration_domains: ['@Example.com', 'example.org'] });
      expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
      expect(changed.body.settings.self_registration).to.include({ value: true, source: 'stored' });
      expect(changed.body.settings.self_registration_domains.value).to.deep.equal(['example.com', 'example.org']);

      await within(NOTICE_MS, async () => offersRegistration((await c.signInPage(c.b)).html));
      const after = await c.signInPage(c.b);
      const register = await after.agent.request(`${after.url}/register`);
      expect(register.status).to.equal(200);
      expect(await register.text()).to.include('example.com, example.org');

      await c.a.audit.flush();
      const { events } = await c.a.services.audit.query({ types: ['settings.updated'], limit: 5 });
      expect(events).to.have.length(1);
      expect(events[0]!.target).to.deep.equal({ type: 'settings', id: 'sign-in' });
      expect(events[0]!.details).to.deep.equal({
        fields: ['self_registration', 'self_registration_domains'],
        before: { self_registration: false, self_registration_domains: [] },
        after: { self_registration: true, self_registration_domains: ['example.com', 'example.org'] },
      });
      expect(events[0]!.actor.type).to.equal('client');
    });

    it('password reset off: no "Forgot password?" link, and the reset pages refuse alike for known and unknown accounts', async () => {
      await c.a.services.accounts.createUser({ username: 'rosa', email: 'rosa@example.com', password: PASSWORD });
      expect(offersReset((await c.signInPage(c.b)).html)).to.equal(true);
      const changed = await callAdmin(c.a.url, await c.token(), 'PATCH', '/settings/sign-in', { password_reset: false });
      expect(changed.status).to.equal(200);
      await within(NOTICE_MS, async () => !offersReset((await c.signInPage(c.b)).html));

      const agent = new UserAgent();
      const page = await agent.request(`${c.b.url}/password/forgot`);
      expect(page.status).to.equal(404);
      const html = await page.text();
      expect(formsOf(html), 'no form to fill').to.have.length(0);
      const answers = [];
      for (const login of ['rosa', 'nobody-here']) {
        const response = await agent.postForm(`${c.b.url}/password/forgot`, { login, csrf: 'x' });
        answers.push({ status: response.status, body: (await response.text()).replace(/<code>[0-9a-f-]{36}<\/code>/g, '') });
      }
      expect(answers[0]).to.deep.equal(answers[1]);
      expect(answers[0]!.status).to.equal(404);
      expect((await agent.request(`${c.b.url}/password/reset/${'a'.repeat(43)}`)).status).to.equal(404);
      // Only the reset pages: an address-confirmation link is still answered as one (a stale link: 400, its own page).
      const verify = await agent.request(`${c.b.url}/email/verify/${'a'.repeat(43)}`);
      expect(verify.status, 'the email confirmation page, not the reset pages\' 404').to.equal(400);
      expect(await verify.text()).to.not.include('/password/forgot');
      expect(inbox.received.filter((mail) => mail.subject?.includes('password'))).to.have.length(0);

      // Back to the default (null): the link returns.
      const reset = await callAdmin(c.a.url, await c.token(), 'PATCH', '/settings/sign-in', { password_reset: null });
      expect(reset.body.settings.password_reset).to.include({ value: true, source: 'default' });
      await within(NOTICE_MS, async () => offersReset((await c.signInPage(c.b)).html));
    });

    it('refuses bad values with 400 naming the field, and unknown settings', async () => {
      const token = await c.token();
      const short = await callAdmin(c.a.url, token, 'PATCH', '/settings/sign-in', { email_verification_ttl: 5 });
      expect(short.status).to.equal(400);
      expect(short.body.error).to.equal('invalid_request');
      expect(short.body.details).to.deep.equal([{ path: 'email_verification_ttl', message: 'must be at least 60', code: 'too_small', params: { min: 60 } }]);
      const rule = await callAdmin(c.a.url, token, 'PATCH', '/settings/sign-in', { require_verified_email: 'sometimes' });
      expect(rule.status).to.equal(400);
      expect(rule.body.details[0].path).to.equal('require_verified_email');
      const domain = await callAdmin(c.a.url, token, 'PATCH', '/settings/sign-in', { self_registration_domains: ['not a domain'] });
      expect(domain.status).to.equal(400);
      expect(domain.body.details[0].path).to.equal('self_registration_domains.0');
      // admin as a default role would make every new user, self-registered ones included, an administrator.
      const admin = await callAdmin(c.a.url, token, 'PATCH', '/settings/sign-in', { default_roles: ['member', 'admin'] });
      expect(admin.status).to.equal(400);
      expect(admin.body.details[0]).to.include({ path: 'default_roles', code: 'admin_default_role' });
      const unknown = await callAdmin(c.a.url, token, 'PATCH', '/settings/sign-in', { remember_me: true });
      expect(unknown.status).to.equal(400);
      expect(unknown.body.error_description).to.include('remember_me');
      expect(unknown.body.details).to.deep.equal([{ path: 'remember_me', message: 'unknown field', code: 'unknown_field' }]);
      const notJson = await callAdmin(c.a.url, token, 'PATCH', '/settings/sign-in', '{"self_registration":');
      expect(notJson.status).to.equal(400);
      expect((await callAdmin(c.a.url, undefined, 'GET', '/settings/sign-in')).status).to.equal(401);
    });

    it('is in the OpenAPI document', async () => {
      const document = (await (await fetch(`${c.a.url}/admin/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
      expect(Object.keys(document.paths['/settings/sign-in']!)).to.have.members(['get', 'patch']);
      expect(JSON.stringify(document.paths['/settings/sign-in']!.patch!.requestBody)).to.include('require_verified_email');
    });

    it('the CLI reads and changes the same settings; running servers follow', async () => {
      const env = c.cliEnv();
      const shown = await runCli(['settings', 'get', '--json'], env);
      expect(shown.code, shown.stderr).to.equal(0);
      expect(JSON.parse(shown.stdout).settings.self_registration.value).to.equal(true);

      const set = await runCli(['settings', 'set', 'self_registration=false', 'password-reset-ttl=900'], env);
      expect(set.code, set.stderr).to.equal(0);
      expect(set.stdout).to.match(/^self_registration {2}false {2}\(stored\)$/m);
      expect(set.stdout).to.match(/^password_reset_ttl {2}900 {2}\(stored\)$/m);
      await within(NOTICE_MS, async () => !offersRegistration((await c.signInPage(c.b)).html));
      const gone = await c.signInPage(c.a);
      expect((await gone.agent.request(`${gone.url}/register`)).status).to.equal(404);

      const bad = await runCli(['settings', 'set', 'password_reset_ttl=5'], env);
      expect(bad.code).to.not.equal(0);
      expect(bad.stderr).to.include('password_reset_ttl: must be at least 60');
      const unknown = await runCli(['settings', 'set', 'captcha=on'], env);
      expect(unknown.code).to.equal(2);
      expect(unknown.stderr).to.include("unknown setting 'captcha'");

      await c.a.audit.flush();
      const { events } = await c.a.services.audit.query({ types: ['settings.updated'], limit: 1 });
      expect(events[0]!.actor.type).to.equal('cli');
      expect(events[0]!.details).to.deep.include({ before: { self_registration: true, password_reset_ttl: 1800 }, after: { self_registration: false, password_reset_ttl: 900 } });
    });
  });

  describe('two instances without Redis', () => {
    const clock = testClock({ frozen: true });
    const c = forSuite(() => twoInstances('settings_noredis', { mail: inbox, redis: false, clock }), (c) => c.stop());

    it('the other instance applies a change within a second (on its clock), with its next request', async () => {
      await c.signInPage(c.b);
      const changed = await callAdmin(c.a.url, await c.token(), 'PATCH', '/settings/sign-in', { self_registration: true });
      expect(changed.status).to.equal(200);
      expect(offersRegistration((await c.signInPage(c.a)).html), 'the instance that wrote applies it at once').to.equal(true);
      expect(offersRegistration((await c.signInPage(c.b)).html), 'B still has its copy').to.equal(false);
      await clock.advance(1000);
      expect(offersRegistration((await c.signInPage(c.b)).html)).to.equal(true);
    });
  });

  describe('environment variables pin settings', () => {
    const clock = testClock();
    const c = forSuite(() => twoInstances('settings_pinned', { mail: inbox, redis: true, clock, settings: { GATEHOUSE_PASSWORD_RESET: 'false', GATEHOUSE_SELF_REGISTRATION: 'true' } }), (c) => c.stop());

    it('shows pinned_by, refuses changes to a pinned setting (409 naming it), and ignores a stored value', async () => {
      const token = await c.token();
      const shown = await callAdmin(c.a.url, token, 'GET', '/settings/sign-in');
      expect(shown.body.settings.password_reset).to.deep.equal({ value: false, default: false, source: 'environment', pinned_by: 'GATEHOUSE_PASSWORD_RESET', env: 'GATEHOUSE_PASSWORD_RESET' });
      expect(shown.body.settings.self_registration).to.include({ value: true, pinned_by: 'GATEHOUSE_SELF_REGISTRATION' });
      expect(shown.body.settings.require_verified_email).to.include({ pinned_by: null });

      const refused = await callAdmin(c.a.url, token, 'PATCH', '/settings/sign-in', { password_reset: true, require_verified_email: 'all' });
      expect(refused.status).to.equal(409);
      expect(refused.body.details).to.deep.equal([{ path: 'password_reset', message: refused.body.error_description, code: 'pinned', params: { setting: 'password_reset', variable: 'GATEHOUSE_PASSWORD_RESET' } }]);
      expect(refused.body.error_description).to.include('GATEHOUSE_PASSWORD_RESET');
      const after = await callAdmin(c.a.url, token, 'GET', '/settings/sign-in');
      expect(after.body.settings.require_verified_email.value, 'nothing of a refused change is applied').to.equal('self-registered');

      const signIn = await c.signInPage(c.b);
      expect(offersReset(signIn.html)).to.equal(false);
      expect(offersRegistration(signIn.html)).to.equal(true);

      // Registering with a taken address tells its owner, without a reset link while reset is off.
      await c.a.services.accounts.createUser({ username: 'taken', email: 'taken@example.com', password: PASSWORD });
      const form = formsOf(await (await signIn.agent.request(`${signIn.url}/register`)).text()).find((found) => found.action.endsWith('/register'))!;
      const sent = await signIn.agent.postForm(new URL(form.action, c.b.url).toString(), { ...form.fields, name: '', email: 'taken@example.com', password: 'a long new passphrase', confirm: 'a long new passphrase' });
      expect(sent.status).to.equal(200);
      let note = await inbox.next();
      for (let skipped = 0; note.subject !== 'You already have an account' && skipped < 5; skipped += 1) note = await inbox.next();
      expect(note.subject).to.equal('You already have an account');
      expect(note.text).to.not.include('/password/');
      expect(note.html).to.not.include('/password/');

      // The CLI refuses the same way, naming the variable.
      const env = c.cliEnv({ GATEHOUSE_PASSWORD_RESET: 'false' });
      const cli = await runCli(['settings', 'set', 'password_reset=true'], env);
      expect(cli.code).to.not.equal(0);
      expect(cli.stderr).to.include('GATEHOUSE_PASSWORD_RESET');
      const listed = await runCli(['settings', 'get'], env);
      expect(listed.stdout).to.match(/^password_reset {2}false {2}\(pinned by GATEHOUSE_PASSWORD_RESET\)$/m);
    });
  });
});
