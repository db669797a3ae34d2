import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { callAdmin } from '../helpers/admin.ts';
import { formsOf, UserAgent } from '../helpers/browserless.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { PASSWORD } from '../helpers/e2e.ts';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { runCli } from '../helpers/process.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';
import { forSuite } from '../helpers/suite.ts';
import { NOTES_REDIRECT, twoInstances, type TwoInstances } from '../helpers/two-instances.ts';

/** Two instances for the enclosing describe, with mail and self-registration on (its page shows the minimum length). */
function cluster(label: string, inbox: Inbox, options: { redis: boolean; clock: TestClock; settings?: Record<string, string> }): TwoInstances {
  return forSuite(() => twoInstances(label, { ...options, mail: inbox, settings: { GATEHOUSE_SELF_REGISTRATION: 'true', ...options.settings } }), (c) => c.stop());
}

/** The registration page of a fresh authorization request on one instance. */
async function registrationPage(c: TwoInstances, instance: RunningGatehouse): Promise<string> {
  const { agent, url } = await c.interaction(instance);
  const page = await agent.request(`${url}/register`);
  expect(page.status).to.equal(200);
  return page.text();
}

const minLengthOn = (html: string) => Number(/id="password"[^>]*minlength="(\d+)"/.exec(html)?.[1]);

describe('runtime password policy (admin API, CLI, two instances, environment pins)', function () {
  this.timeout(120_000);
  const inbox = forSuite(startInbox, (box) => box.close());

  describe('two instances sharing MongoDB and Redis', () => {
    // Frozen: no cache lifetime can run out, so only the Redis notice can explain a change on B.
    const clock = testClock({ frozen: true });
    const c = cluster('policy_redis', inbox, { redis: true, clock });

    it('starts from the configured minimum length, with its variable and no pin', async () => {
      const shown = await callAdmin(c.a.url, await c.token(), 'GET', '/settings/password-policy');
      expect(shown.status).to.equal(200);
      expect(shown.body.updated_at).to.equal(null);
      expect(shown.body.settings.password_min_length).to.deep.equal({ value: 8, default: 8, source: 'default', pinned_by: null, env: 'GATEHOUSE_PASSWORD_MIN_LENGTH' });
      expect(Object.fromEntries(Object.entries(shown.body.settings as Record<string, { value: unknown }>).map(([name, setting]) => [name, setting.value]))).to.deep.equal({
        password_min_length: 8,
        password_max_length: 1024,
        password_digits: 0,
        password_lowercase: 0,
        password_uppercase: 0,
        password_special: 0,
        password_not_username: false,
        password_not_email: false,
        password_history: 0,
      });
      expect(shown.body.settings.password_history).to.include({ env: 'GATEHOUSE_PASSWORD_HISTORY' });
      expect(minLengthOn(await registrationPage(c, c.b))).to.equal(8);
    });

    it('a longer minimum set on A applies on B at once: registration page, admin set-password, change password; audited', async () => {
      const user = await c.a.services.accounts.createUser({ username: 'ada', password: PASSWORD });
      await registrationPage(c, c.b);
      const changed = await callAdmin(c.a.url, await c.token(), 'PATCH', '/settings/password-policy', { password_min_length: 14 });
      expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
      expect(changed.body.settings.password_min_length).to.include({ value: 14, source: 'stored' });

      await within(NOTICE_MS, async () => minLengthOn(await registrationPage(c, c.b)) === 14);
      const refused = await callAdmin(c.b.url, await c.token(), 'PUT', `/users/${user.id}/password`, { password: 'thirteen-char' });
      expect(refused.status, JSON.stringify(refused.body)).to.equal(400);
      expect(JSON.stringify(refused.body)).to.include('at least 14 characters');
      expect((await callAdmin(c.b.url, await c.token(), 'PUT', `/users/${user.id}/password`, { password: 'fourteen-chars' })).status).to.equal(204);
      // The account page's change and the CLI's set-password go through the same check.
      let error: unknown;
      await c.b.services.accounts.setPassword(user.id, 'short-again').catch((caught: unknown) => (error = caught));
      expect(error).to.have.property('rule', 'too_short');
      // Passwords already set keep working.
      expect((await c.b.services.accounts.authenticate('ada', 'fourteen-chars', '203.0.113.9')).ok).to.equal(true);

      await c.a.audit.flush();
      const { events } = await c.a.services.audit.query({ types: ['settings.updated'], limit: 5 });
      expect(events).to.have.length(1);
      expect(events[0]!.target).to.deep.equal({ type: 'settings', id: 'password-policy' });
      expect(events[0]!.details).to.deep.equal({ fields: ['password_min_length'], before: { password_min_length: 8 }, after: { password_min_length: 14 } });
    });

    it('refuses bad values with 400 naming the field', async () => {
      const token = await c.token();
      const short = await callAdmin(c.a.url, token, 'PATCH', '/settings/password-policy', { password_min_length: 4 });
      expect(short.status).to.equal(400);
      expect(short.body.details).to.deep.equal([{ path: 'password_min_length', message: 'must be at least 8', code: 'too_small', params: { min: 8 } }]);
      const text = await callAdmin(c.a.url, token, 'PATCH', '/settings/password-policy', { password_min_length: 'twelve' });
      expect(text.status).to.equal(400);
      expect(text.body.details[0].path).to.equal('password_min_length');
      const huge = await callAdmin(c.a.url, token, 'PATCH', '/settings/password-policy', { password_min_length: 5000 });
      expect(huge.body.details).to.deep.equal([{ path: 'password_min_length', message: 'must be at most 1024', code: 'too_big', params: { max: 1024 } }]);
      const unknown = await callAdmin(c.a.url, token, 'PATCH', '/settings/password-policy', { password_regex: '.*' });
      expect(unknown.status).to.equal(400);
      expect(unknown.body.details).to.deep.equal([{ path: 'password_regex', message: 'unknown field', code: 'unknown_field' }]);
      const history = await callAdmin(c.a.url, token, 'PATCH', '/settings/password-policy', { password_history: 25 });
      expect(history.body.details).to.deep.equal([{ path: 'password_history', message: 'must be at most 24', code: 'too_big', params: { max: 24 } }]);
      const flag = await callAdmin(c.a.url, token, 'PATCH', '/settings/password-policy', { password_not_email: 'yes' });
      expect(flag.body.details).to.deep.equal([{ path: 'password_not_email', message: 'must be true or false', code: 'not_boolean' }]);
      const inverted = await callAdmin(c.a.url, token, 'PATCH', '/settings/password-policy', { password_max_length: 10 });
      expect(inverted.status).to.equal(400);
      expect(inverted.body.details).to.deep.equal([{ path: 'password_max_length', message: 'must be at least password_min_length (14)', code: 'below_min_length', params: { min: 14 } }]);
      const crowded = await callAdmin(c.a.url, token, 'PATCH', '/settings/password-policy', { password_max_length: 20, password_digits: 10, password_special: 11 });
      expect(crowded.body.details).to.deep.equal([{ path: 'password_max_length', message: 'must be at least the required digits, lowercase, uppercase and special characters together (21)', code: 'below_required_classes', params: { min: 21 } }]);
      expect((await callAdmin(c.a.url, token, 'GET', '/settings/password-policy')).body.settings.password_digits.value, 'nothing of a refused change is stored').to.equal(0);
      expect((await callAdmin(c.a.url, undefined, 'GET', '/settings/password-policy')).status).to.equal(401);
    });

    it('character classes, not the username/email and history set on A: B refuses breaking passwords everywhere, naming each rule; history keeps only argon2id hashes', async () => {
      const token = await c.token();
      const user = await c.a.services.accounts.createUser({ username: 'grace.hopper', email: 'grace@example.com', password: 'first-password-11A!' });
      const changed = await callAdmin(c.a.url, token, 'PATCH', '/settings/password-policy', {
        password_min_length: 10,
        password_max_length: 40,
        password_digits: 2,
        password_uppercase: 1,
        password_special: 1,
        password_not_username: true,
        password_not_email: true,
        password_history: 3,
      });
      expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
      await within(NOTICE_MS, async () => (await c.b.services.runtimeSettings.passwordPolicy.current()).password_history === 3);

      // Admin API: 400, every rule broken is a detail on the password field.
      const weak = await callAdmin(c.b.url, token, 'PUT', `/users/${user.id}/password`, { password: 'weakpassword' });
      expect(weak.status).to.equal(400);
      expect(weak.body.details).to.deep.equal([
        { path: 'password', message: 'must contain at least 2 digits', code: 'password_digits', params: { limit: 2 } },
        { path: 'password', message: 'must contain at least 1 uppercase letter', code: 'password_uppercase', params: { limit: 1 } },
        { path: 'password', message: 'must contain at least 1 special character (neither a letter nor a digit)', code: 'password_special', params: { limit: 1 } },
      ]);
      const named = await callAdmin(c.b.url, token, 'PUT', `/users/${user.id}/password`, { password: 'Grace@Example.com' });
      expect(named.body.details).to.deep.include({ path: 'password', message: 'must not be the email address', code: 'password_not_email' });
      // A new user's password is checked against the name and address it is created with.
      const created = await callAdmin(c.b.url, token, 'POST', '/users', { username: 'katherine-11x', password: 'Katherine-11X' });
      expect(created.status, JSON.stringify(created.body)).to.equal(400);
      expect(created.body.details).to.deep.equal([{ path: 'password', message: 'must not be the username', code: 'password_not_username' }]);

      // History: the current password and the two before it are refused; what it keeps are argon2id hashes.
      expect((await callAdmin(c.b.url, token, 'PUT', `/users/${user.id}/password`, { password: 'second-password-22B!' })).status).to.equal(204);
      expect((await callAdmin(c.b.url, token, 'PUT', `/users/${user.id}/password`, { password: 'third-password-33C!' })).status).to.equal(204);
      for (const reused of ['first-password-11A!', 'second-password-22B!', 'third-password-33C!']) {
        const refused = await callAdmin(c.b.url, token, 'PUT', `/users/${user.id}/password`, { password: reused });
        expect(refused.status, reused).to.equal(400);
        expect(refused.body.details, reused).to.deep.equal([{ path: 'password', message: 'must not be one of the last 3 passwords', code: 'password_history', params: { limit: 3 } }]);
      }
      const connection = await connectMongo({ uri: c.deploy.mongodbUri, timeoutMs: 5000 });
      const stored = await connection.db!.collection('password_history').findOne({ _id: user.id as never });
      await connection.close();
      expect(stored!.hashes).to.have.length(2);
      for (const hash of stored!.hashes as string[]) expect(hash).to.match(/^\$argon2id\$/);
      expect(JSON.stringify(stored)).to.not.include('password-');
      // The fourth password pushes the first out: it may come back.
      expect((await callAdmin(c.b.url, token, 'PUT', `/users/${user.id}/password`, { password: 'fourth-password-44D!' })).status).to.equal(204);
      expect((await callAdmin(c.b.url, token, 'PUT', `/users/${user.id}/password`, { password: 'first-password-11A!' })).status).to.equal(204);
      expect((await c.b.services.accounts.authenticate('grace.hopper', 'first-password-11A!', '203.0.113.10')).ok).to.equal(true);

      // The account page's change (and the CLI's set-password) go through the same check.
      let error: unknown;
      await c.b.services.accounts.setPassword(user.id, 'fourth-password-44D!').catch((caught: unknown) => (error = caught));
      expect(error).to.have.property('rule', 'history');

      // The registration page shows the requirements and names the rules a password breaks, in the reader's language.
      const html = await registrationPage(c, c.b);
      expect(html).to.include('Requirements: at least 10 characters; at most 40 characters; at least 2 digits; at least one uppercase letter; at least one special character (not a letter or digit); not your username; not your email address; not one of your last 3 passwords.');

      // A refused registration names the rules broken in the reader's language (the switcher's cookie).
      const refusals: Record<string, string> = {
        en: 'This password does not meet the password policy: at least 2 digits; at least one uppercase letter; at least one special character (not a letter or digit). Choose another one.',
        ru: 'Пароль не соответствует правилам: не менее 2 цифр; хотя бы одна заглавная буква; хотя бы один специальный символ (не буква и не цифра). Выберите другой.',
        'zh-CN': '此密码不符合密码策略：至少 2 个数字；至少 1 个大写字母；至少 1 个特殊字符（非字母或数字）。请换一个密码。',
        ko: '이 비밀번호는 비밀번호 정책을 충족하지 않습니다: 숫자 2개 이상; 대문자 1개 이상; 특수 문자(문자나 숫자가 아닌 것) 1개 이상. 다른 비밀번호를 선택하세요.',
      };
      for (const [locale, text] of Object.entries(refusals)) {
        const { agent, url } = await c.interaction(c.b);
        agent.cookies.set('gatehouse.lang', locale);
        const form = formsOf(await (await agent.request(`${url}/register`)).text()).find((found) => found.action.endsWith('/register'))!;
        const answer = await agent.postForm(new URL(form.action, url).toString(), { ...form.fields, name: '', email: 'newcomer@example.com', password: 'weakpassword', confirm: 'weakpassword' });
        expect(answer.status, locale).to.equal(400);
        expect(await answer.text(), locale).to.include(text);
      }

      // Back to the defaults for the tests that follow.
      const reset = Object.fromEntries(['password_min_length', 'password_max_length', 'password_digits', 'password_uppercase', 'password_special', 'password_not_username', 'password_not_email', 'password_history'].map((name) => [name, null]));
      expect((await callAdmin(c.a.url, token, 'PATCH', '/settings/password-policy', { ...reset, password_min_length: 14 })).status).to.equal(200);
    });

    it('is in the OpenAPI document', async () => {
      const document = (await (await fetch(`${c.a.url}/admin/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
      expect(Object.keys(document.paths['/settings/password-policy']!)).to.have.members(['get', 'patch']);
      expect(JSON.stringify(document.paths['/settings/password-policy']!.patch!.requestBody)).to.include('password_min_length');
    });

    it('the CLI lists every group\'s settings and changes the policy; running servers follow', async () => {
      const all = await runCli(['settings', 'get', '--json'], c.cliEnv());
      expect(all.code, all.stderr).to.equal(0);
      const shown = JSON.parse(all.stdout);
      expect(shown.settings.password_min_length.value).to.equal(14);
      expect(shown.settings, 'the sign-in group is listed too').to.include.keys('self_registration', 'password_reset_ttl');
      const group = await runCli(['settings', 'get', 'password-policy', '--json'], c.cliEnv());
      expect(Object.keys(JSON.parse(group.stdout).settings)).to.deep.equal(['password_min_length', 'password_max_length', 'password_digits', 'password_lowercase', 'password_uppercase', 'password_special', 'password_not_username', 'password_not_email', 'password_history']);

      const set = await runCli(['settings', 'set', 'password-min-length=10'], c.cliEnv());
      expect(set.code, set.stderr).to.equal(0);
      expect(set.stdout).to.match(/^password_min_length {2}10 {2}\(stored\)$/m);
      await within(NOTICE_MS, async () => minLengthOn(await registrationPage(c, c.b)) === 10);

      const bad = await runCli(['settings', 'set', 'password_min_length=3'], c.cliEnv());
      expect(bad.code).to.not.equal(0);
      expect(bad.stderr).to.include('password_min_length: must be at least 8');
      const back = await runCli(['settings', 'set', 'password_min_length=default', '--json'], c.cliEnv());
      expect(JSON.parse(back.stdout).settings.password_min_length).to.include({ value: 8, source: 'default' });
    });
  });

  describe('two instances without Redis', () => {
    const clock = testClock({ frozen: true });
    const c = cluster('policy_noredis', inbox, { redis: false, clock });

    it('the other instance applies a change within a second (on its clock)', async () => {
      expect(minLengthOn(await registrationPage(c, c.b))).to.equal(8);
      expect((await callAdmin(c.a.url, await c.token(), 'PATCH', '/settings/password-policy', { password_min_length: 12 })).status).to.equal(200);
      expect(minLengthOn(await registrationPage(c, c.a)), 'the instance that wrote applies it at once').to.equal(12);
      expect(minLengthOn(await registrationPage(c, c.b)), 'B still has its copy').to.equal(8);
      await clock.advance(1000);
      expect(minLengthOn(await registrationPage(c, c.b))).to.equal(12);
    });
  });

  describe('the environment variable pins the minimum length', () => {
    const clock = testClock();
    const c = cluster('policy_pinned', inbox, { redis: true, clock, settings: { GATEHOUSE_PASSWORD_MIN_LENGTH: '10', GATEHOUSE_PASSWORD_HISTORY: '2', GATEHOUSE_PASSWORD_NOT_USERNAME: 'true' } });

    it('shows pinned_by and refuses a change with 409 naming the setting and its variable', async () => {
      const token = await c.token();
      const shown = await callAdmin(c.a.url, token, 'GET', '/settings/password-policy');
      expect(shown.body.settings.password_min_length).to.deep.equal({ value: 10, default: 10, source: 'environment', pinned_by: 'GATEHOUSE_PASSWORD_MIN_LENGTH', env: 'GATEHOUSE_PASSWORD_MIN_LENGTH' });
      const refused = await callAdmin(c.a.url, token, 'PATCH', '/settings/password-policy', { password_min_length: 12 });
      expect(refused.status).to.equal(409);
      expect(refused.body.details).to.deep.equal([{ path: 'password_min_length', message: refused.body.error_description, code: 'pinned', params: { setting: 'password_min_length', variable: 'GATEHOUSE_PASSWORD_MIN_LENGTH' } }]);
      expect(refused.body.error_description).to.include('GATEHOUSE_PASSWORD_MIN_LENGTH');
      expect(minLengthOn(await registrationPage(c, c.b))).to.equal(10);

      const cli = await runCli(['settings', 'set', 'password_min_length=12'], c.cliEnv({ GATEHOUSE_PASSWORD_MIN_LENGTH: '10' }));
      expect(cli.code).to.not.equal(0);
      expect(cli.stderr).to.include('GATEHOUSE_PASSWORD_MIN_LENGTH');

      expect(shown.body.settings.password_history).to.deep.equal({ value: 2, default: 2, source: 'environment', pinned_by: 'GATEHOUSE_PASSWORD_HISTORY', env: 'GATEHOUSE_PASSWORD_HISTORY' });
      expect(shown.body.settings.password_not_username).to.include({ value: true, pinned_by: 'GATEHOUSE_PASSWORD_NOT_USERNAME' });
      const history = await callAdmin(c.a.url, token, 'PATCH', '/settings/password-policy', { password_history: 0 });
      expect(history.status).to.equal(409);
      expect(history.body.error_description).to.include('GATEHOUSE_PASSWORD_HISTORY');
      // The pinned rules are in force: the previous password cannot come back.
      const user = await c.a.services.accounts.createUser({ username: 'pinned-user', password: 'pinned-password-1' });
      await c.b.services.accounts.setPassword(user.id, 'pinned-password-2');
      let error: unknown;
      await c.b.services.accounts.setPassword(user.id, 'pinned-password-1').catch((caught: unknown) => (error = caught));
      expect(error).to.have.property('rule', 'history');
      // An unpinned rule of the group stays editable.
      expect((await callAdmin(c.a.url, token, 'PATCH', '/settings/password-policy', { password_digits: 1 })).status).to.equal(200);
    });
  });
});

describe('runtime brute-force detection (admin API, CLI, two instances, environment pins)', function () {
  this.timeout(120_000);
  const inbox = forSuite(startInbox, (box) => box.close());

  /** Wrong passwords, then the right one: whether the right one still signs in. */
  async function signsInAfter(instance: RunningGatehouse, username: string, failures: number, ip: string): Promise<boolean> {
    for (let i = 0; i < failures; i += 1) expect((await instance.services.accounts.authenticate(username, 'wrong password!', ip)).ok).to.equal(false);
    return (await instance.services.accounts.authenticate(username, PASSWORD, ip)).ok;
  }

  describe('two instances sharing MongoDB and Redis', () => {
    const clock = testClock({ frozen: true });
    const c = cluster('bruteforce_redis', inbox, { redis: true, clock });
    before(async () => {
      for (const username of ['before', 'after']) await c.a.services.accounts.createUser({ username, password: PASSWORD });
    });

    it('starts from the configured thresholds and durations', async () => {
      const shown = await callAdmin(c.a.url, await c.token(), 'GET', '/settings/brute-force');
      expect(shown.status).to.equal(200);
      expect(Object.fromEntries(Object.entries(shown.body.settings as Record<string, { value: number }>).map(([name, setting]) => [name, setting.value]))).to.deep.equal({
        lockout_threshold: 5,
        lockout_account_threshold: 20,
        lockout_ip_threshold: 100,
        lockout_window: 3600,
        lockout_seconds: 60,
        lockout_max_seconds: 86_400,
      });
      expect(shown.body.settings.lockout_threshold).to.deep.equal({ value: 5, default: 5, source: 'default', pinned_by: null, env: 'GATEHOUSE_LOCKOUT_THRESHOLD' });
      expect(await signsInAfter(c.b, 'before', 2, '198.51.100.1'), 'two failures do not lock by default').to.equal(true);
    });

    it('a lower threshold and a longer lock set on A apply on B at once; audited', async () => {
      const changed = await callAdmin(c.a.url, await c.token(), 'PATCH', '/settings/brute-force', { lockout_threshold: 2, lockout_seconds: 300 });
      expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
      await within(NOTICE_MS, async () => (await c.b.services.runtimeSettings.bruteForce.current()).lockout_threshold === 2);
      expect(await signsInAfter(c.b, 'after', 2, '198.51.100.2'), 'two failures lock the pair now').to.equal(false);
      const lockouts = await callAdmin(c.b.url, await c.token(), 'GET', '/lockouts');
      const lock = (lockouts.body as Array<{ username: string | null; scope: string; locked_at: string; locked_until: string }>).find((found) => found.scope === 'account_ip' && found.username === 'after');
      expect(lock, JSON.stringify(lockouts.body)).to.not.equal(undefined);
      expect(Date.parse(lock!.locked_until) - Date.parse(lock!.locked_at)).to.equal(300_000);

      await c.a.audit.flush();
      const { events } = await c.a.services.audit.query({ types: ['settings.updated'], limit: 5 });
      expect(events[0]!.target).to.deep.equal({ type: 'settings', id: 'brute-force' });
      expect(events[0]!.details).to.deep.equal({ fields: ['lockout_threshold', 'lockout_seconds'], before: { lockout_threshold: 5, lockout_seconds: 60 }, after: { lockout_threshold: 2, lockout_seconds: 300 } });
    });

    it('a threshold lowered below a count already reached locks with the next failure', async () => {
      await callAdmin(c.a.url, await c.token(), 'PATCH', '/settings/brute-force', { lockout_threshold: 5 });
      await within(NOTICE_MS, async () => (await c.b.services.runtimeSettings.bruteForce.current()).lockout_threshold === 5);
      await c.a.services.accounts.createUser({ username: 'counted', password: PASSWORD });
      expect(await signsInAfter(c.b, 'counted', 3, '198.51.100.3')).to.equal(true);
      // A success resets the pair; three failures again, then the threshold drops to 2.
      for (let i = 0; i < 3; i += 1) await c.b.services.accounts.authenticate('counted', 'wrong password!', '198.51.100.3');
      await callAdmin(c.a.url, await c.token(), 'PATCH', '/settings/brute-force', { lockout_threshold: 2 });
      await within(NOTICE_MS, async () => (await c.b.services.runtimeSettings.bruteForce.current()).lockout_threshold === 2);
      expect(await signsInAfter(c.b, 'counted', 1, '198.51.100.3')).to.equal(false);
    });

    it('refuses bad values with 400 naming the field, including a longest lock shorter than the first', async () => {
      const token = await c.token();
      const zero = await callAdmin(c.a.url, token, 'PATCH', '/settings/brute-force', { lockout_threshold: 0 });
      expect(zero.status).to.equal(400);
      expect(zero.body.details).to.deep.equal([{ path: 'lockout_threshold', message: 'must be at least 1', code: 'too_small', params: { min: 1 } }]);
      const fraction = await callAdmin(c.a.url, token, 'PATCH', '/settings/brute-force', { lockout_window: 1.5 });
      expect(fraction.body.details[0].path).to.equal('lockout_window');
      const inverted = await callAdmin(c.a.url, token, 'PATCH', '/settings/brute-force', { lockout_max_seconds: 120 });
      expect(inverted.status).to.equal(400);
      expect(inverted.body.details).to.deep.equal([{ path: 'lockout_max_seconds', message: 'must be at least lockout_seconds (300)', code: 'below_lockout_seconds', params: { min: 300 } }]);
      expect((await callAdmin(c.a.url, token, 'GET', '/settings/brute-force')).body.settings.lockout_max_seconds.value, 'nothing of a refused change is stored').to.equal(86_400);
      const unknown = await callAdmin(c.a.url, token, 'PATCH', '/settings/brute-force', { permanent_lockout: true });
      expect(unknown.body.details).to.deep.equal([{ path: 'permanent_lockout', message: 'unknown field', code: 'unknown_field' }]);
    });

    it('is in the OpenAPI document, and the CLI changes it', async () => {
      const document = (await (await fetch(`${c.a.url}/admin/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
      expect(Object.keys(document.paths['/settings/brute-force']!)).to.have.members(['get', 'patch']);
      expect(JSON.stringify(document.paths['/settings/brute-force']!.patch!.requestBody)).to.include('lockout_ip_threshold');

      const set = await runCli(['settings', 'set', 'lockout_ip_threshold=50', 'lockout_seconds=default', '--json'], c.cliEnv());
      expect(set.code, set.stderr).to.equal(0);
      expect(JSON.parse(set.stdout).settings.lockout_ip_threshold).to.include({ value: 50, source: 'stored' });
      await within(NOTICE_MS, async () => (await c.b.services.runtimeSettings.bruteForce.current()).lockout_ip_threshold === 50);
      const group = await runCli(['settings', 'get', 'brute-force', '--json'], c.cliEnv());
      expect(JSON.parse(group.stdout).settings.lockout_seconds).to.include({ value: 60, source: 'default' });
    });
  });

  describe('two instances without Redis (counters in MongoDB)', () => {
    const clock = testClock({ frozen: true });
    const c = cluster('bruteforce_noredis', inbox, { redis: false, clock });
    before(async () => {
      for (const username of ['early', 'late']) await c.a.services.accounts.createUser({ username, password: PASSWORD });
    });

    it('the other instance applies a lower threshold within a second (on its clock)', async () => {
      await c.b.services.runtimeSettings.bruteForce.current();
      expect((await callAdmin(c.a.url, await c.token(), 'PATCH', '/settings/brute-force', { lockout_threshold: 2 })).status).to.equal(200);
      expect(await signsInAfter(c.b, 'early', 2, '198.51.100.4'), 'B still has its copy').to.equal(true);
      await clock.advance(1000);
      expect(await signsInAfter(c.b, 'late', 2, '198.51.100.5')).to.equal(false);
    });
  });

  describe('environment variables pin settings', () => {
    const clock = testClock();
    const c = cluster('bruteforce_pinned', inbox, { redis: true, clock, settings: { GATEHOUSE_LOCKOUT_THRESHOLD: '3', GATEHOUSE_LOCKOUT_SECONDS: '600' } });

    it('shows pinned_by, refuses a change with 409, and checks a change against the pinned values', async () => {
      const token = await c.token();
      const shown = await callAdmin(c.a.url, token, 'GET', '/settings/brute-force');
      expect(shown.body.settings.lockout_threshold).to.deep.equal({ value: 3, default: 3, source: 'environment', pinned_by: 'GATEHOUSE_LOCKOUT_THRESHOLD', env: 'GATEHOUSE_LOCKOUT_THRESHOLD' });
      expect(shown.body.settings.lockout_window).to.include({ pinned_by: null });
      const refused = await callAdmin(c.a.url, token, 'PATCH', '/settings/brute-force', { lockout_threshold: 10, lockout_window: 60 });
      expect(refused.status).to.equal(409);
      expect(refused.body.details[0].path).to.equal('lockout_threshold');
      expect(refused.body.error_description).to.include('GATEHOUSE_LOCKOUT_THRESHOLD');
      expect((await callAdmin(c.a.url, token, 'GET', '/settings/brute-force')).body.settings.lockout_window.value, 'nothing of a refused change is applied').to.equal(3600);
      const shorter = await callAdmin(c.a.url, token, 'PATCH', '/settings/brute-force', { lockout_max_seconds: 300 });
      expect(shorter.status).to.equal(400);
      expect(shorter.body.details).to.deep.equal([{ path: 'lockout_max_seconds', message: 'must be at least lockout_seconds (600)', code: 'below_lockout_seconds', params: { min: 600 } }]);
    });
  });
});

describe('runtime multi-factor requirement (admin API, CLI, two instances, environment pins)', function () {
  this.timeout(120_000);
  const inbox = forSuite(startInbox, (box) => box.close());

  /** Signs in with the password on one instance: 'enrol' when a second factor is asked for, 'callback' when the app gets its code. */
  async function afterPassword(c: TwoInstances, instance: RunningGatehouse, username: string): Promise<'enrol' | 'callback' | string> {
    const agent = new UserAgent();
    let url = c.authorizationUrl(instance);
    let response: Response | undefined;
    let posted = false;
    for (let hop = 0; hop < 20; hop += 1) {
      if (url.startsWith(NOTES_REDIRECT)) return 'callback';
      // Every step on this instance: redirects name the issuer, which is instance A's address.
      if (url.startsWith(c.deploy.issuer)) url = instance.url + url.slice(c.deploy.issuer.length);
      response = await agent.request(url);
      if (response.status === 302 || response.status === 303) {
        url = new URL(response.headers.get('location')!, url).toString();
        continue;
      }
      const html = await response.text();
      const form = formsOf(html)[0];
      const action = form?.action.split('/').at(-1) ?? 'other';
      if (posted || action !== 'login') return action;
      posted = true;
      const sent = await agent.postForm(instance.url + new URL(form!.action, url).pathname, { ...form!.fields, login: username, password: PASSWORD });
      if (sent.status !== 302 && sent.status !== 303) return `status ${sent.status}`;
      url = new URL(sent.headers.get('location')!, url).toString();
    }
    throw new Error('too many redirects');
  }

  describe('two instances sharing MongoDB and Redis', () => {
    const clock = testClock({ frozen: true });
    const c = cluster('mfa_redis', inbox, { redis: true, clock });
    before(async () => {
      await c.a.services.roles.ensure(['finance']);
      await c.a.services.groups.ensure(['ops', 'security']);
      await c.a.services.accounts.createUser({ username: 'felix', password: PASSWORD, roles: ['finance'] });
      await c.a.services.accounts.createUser({ username: 'olga', password: PASSWORD, groups: ['ops'] });
    });

    it('starts with nobody required', async () => {
      const shown = await callAdmin(c.a.url, await c.token(), 'GET', '/settings/mfa');
      expect(shown.body).to.deep.equal({
        settings: {
          mfa_required_roles: { value: [], default: [], source: 'default', pinned_by: null, env: 'GATEHOUSE_MFA_REQUIRED_ROLES' },
          mfa_required_groups: { value: [], default: [], source: 'default', pinned_by: null, env: 'GATEHOUSE_MFA_REQUIRED_GROUPS' },
        },
        updated_at: null,
      });
      expect(await afterPassword(c, c.b, 'felix')).to.equal('callback');
    });

    it('a role and a group required on A: B asks their members to enrol a second factor at once; audited', async () => {
      const changed = await callAdmin(c.a.url, await c.token(), 'PATCH', '/settings/mfa', { mfa_required_roles: ['finance', ' finance '], mfa_required_groups: ['ops'] });
      expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
      expect(changed.body.settings.mfa_required_roles).to.include({ source: 'stored' });
      expect(changed.body.settings.mfa_required_roles.value).to.deep.equal(['finance']);
      await within(NOTICE_MS, async () => (await afterPassword(c, c.b, 'felix')) === 'enrol');
      expect(await afterPassword(c, c.b, 'olga')).to.equal('enrol');

      await c.a.audit.flush();
      const { events } = await c.a.services.audit.query({ types: ['settings.updated'], limit: 5 });
      expect(events[0]!.target).to.deep.equal({ type: 'settings', id: 'mfa' });
      expect(events[0]!.details).to.deep.equal({ fields: ['mfa_required_roles', 'mfa_required_groups'], before: { mfa_required_roles: [], mfa_required_groups: [] }, after: { mfa_required_roles: ['finance'], mfa_required_groups: ['ops'] } });
    });

    it('refuses bad values with 400 naming the field', async () => {
      const token = await c.token();
      const text = await callAdmin(c.a.url, token, 'PATCH', '/settings/mfa', { mfa_required_roles: 'finance' });
      expect(text.status).to.equal(400);
      expect(text.body.details[0].path).to.equal('mfa_required_roles');
      const empty = await callAdmin(c.a.url, token, 'PATCH', '/settings/mfa', { mfa_required_groups: ['ops', ''] });
      expect(empty.body.details).to.deep.equal([{ path: 'mfa_required_groups.1', message: 'must not be empty', code: 'empty' }]);
      const unknown = await callAdmin(c.a.url, token, 'PATCH', '/settings/mfa', { otp_digits: 8 });
      expect(unknown.body.details).to.deep.equal([{ path: 'otp_digits', message: 'unknown field', code: 'unknown_field' }]);
    });

    it('refuses roles and groups that do not exist with 400 naming the field and the value; nothing is stored', async () => {
      const token = await c.token();
      const role = await callAdmin(c.a.url, token, 'PATCH', '/settings/mfa', { mfa_required_roles: ['finance', 'finanse'] });
      expect(role.status).to.equal(400);
      expect(role.body.details).to.deep.equal([{ path: 'mfa_required_roles.1', message: 'no role named "finanse" (create it first)', code: 'unknown_role', params: { name: 'finanse' } }]);
      const group = await callAdmin(c.a.url, token, 'PATCH', '/settings/mfa', { mfa_required_roles: ['finance'], mfa_required_groups: ['ops', 'nobody-here'] });
      expect(group.status).to.equal(400);
      expect(group.body.details).to.deep.equal([{ path: 'mfa_required_groups.1', message: 'no group named "nobody-here" (create it first)', code: 'unknown_group', params: { name: 'nobody-here' } }]);
      expect((await callAdmin(c.a.url, token, 'GET', '/settings/mfa')).body.settings.mfa_required_groups.value, 'nothing of a refused change is stored').to.deep.equal(['ops']);
      const cli = await runCli(['settings', 'set', 'mfa_required_groups=ops,security', 'mfa_required_roles=ghosts'], c.cliEnv());
      expect(cli.code).to.not.equal(0);
      expect(cli.stderr).to.include('no role named "ghosts"');
      expect((await callAdmin(c.a.url, token, 'GET', '/settings/mfa')).body.settings.mfa_required_groups.value, 'the CLI writes no part of a refused change').to.deep.equal(['ops']);
    });

    it('is in the OpenAPI document; the CLI takes the roles off again and B follows', async () => {
      const document = (await (await fetch(`${c.a.url}/admin/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
      expect(Object.keys(document.paths['/settings/mfa']!)).to.have.members(['get', 'patch']);
      const set = await runCli(['settings', 'set', 'mfa_required_roles=default', 'mfa-required-groups=ops,security', '--json'], c.cliEnv());
      expect(set.code, set.stderr).to.equal(0);
      expect(JSON.parse(set.stdout).settings.mfa_required_groups.value).to.deep.equal(['ops', 'security']);
      await within(NOTICE_MS, async () => (await afterPassword(c, c.b, 'felix')) === 'callback');
      expect(await afterPassword(c, c.b, 'olga')).to.equal('enrol');
    });
  });

  describe('two instances without Redis', () => {
    const clock = testClock({ frozen: true });
    const c = cluster('mfa_noredis', inbox, { redis: false, clock });
    before(async () => {
      await c.a.services.roles.ensure(['finance']);
      // Two members: a started enrolment of one (on A) would make B ask them too, whatever the policy.
      await c.a.services.accounts.createUser({ username: 'felix', password: PASSWORD, roles: ['finance'] });
      await c.a.services.accounts.createUser({ username: 'frida', password: PASSWORD, roles: ['finance'] });
    });

    it('the other instance applies a change within a second (on its clock)', async () => {
      expect(await afterPassword(c, c.b, 'felix')).to.equal('callback');
      expect((await callAdmin(c.a.url, await c.token(), 'PATCH', '/settings/mfa', { mfa_required_roles: ['finance'] })).status).to.equal(200);
      expect(await afterPassword(c, c.a, 'frida'), 'the instance that wrote applies it at once').to.equal('enrol');
      expect(await afterPassword(c, c.b, 'felix'), 'B still has its copy').to.equal('callback');
      await clock.advance(1000);
      expect(await afterPassword(c, c.b, 'felix')).to.equal('enrol');
    });
  });

  describe('environment variables pin settings', () => {
    const clock = testClock();
    const c = cluster('mfa_pinned', inbox, { redis: true, clock, settings: { GATEHOUSE_MFA_REQUIRED_ROLES: 'finance, admin' } });
    before(async () => {
      await c.a.services.groups.ensure(['ops']);
    });

    it('shows pinned_by and refuses a change with 409; the unpinned one stays editable', async () => {
      const token = await c.token();
      const shown = await callAdmin(c.a.url, token, 'GET', '/settings/mfa');
      expect(shown.body.settings.mfa_required_roles).to.deep.equal({ value: ['finance', 'admin'], default: ['finance', 'admin'], source: 'environment', pinned_by: 'GATEHOUSE_MFA_REQUIRED_ROLES', env: 'GATEHOUSE_MFA_REQUIRED_ROLES' });
      const refused = await callAdmin(c.a.url, token, 'PATCH', '/settings/mfa', { mfa_required_roles: [] });
      expect(refused.status).to.equal(409);
      expect(refused.body.details[0].path).to.equal('mfa_required_roles');
      expect(refused.body.error_description).to.include('GATEHOUSE_MFA_REQUIRED_ROLES');
      expect((await callAdmin(c.a.url, token, 'PATCH', '/settings/mfa', { mfa_required_groups: ['ops'] })).status).to.equal(200);
    });
  });
});

describe('runtime OTP policy (admin API, CLI, environment pins)', function () {
  this.timeout(120_000);
  const inbox = forSuite(startInbox, (box) => box.close());

  describe('two instances sharing MongoDB and Redis', () => {
    const clock = testClock({ frozen: true });
    const c = cluster('otp_redis', inbox, { redis: true, clock });

    it('starts from RFC 6238 defaults; a change on A reaches B at once and is audited; bad values are 400 naming the field', async () => {
      const token = await c.token();
      const shown = await callAdmin(c.a.url, token, 'GET', '/settings/otp');
      expect(shown.status).to.equal(200);
      expect(shown.body.settings.otp_digits).to.deep.equal({ value: 6, default: 6, source: 'default', pinned_by: null, env: 'GATEHOUSE_OTP_DIGITS' });
      expect(Object.fromEntries(Object.entries(shown.body.settings as Record<string, { value: unknown }>).map(([name, setting]) => [name, setting.value]))).to.deep.equal({ otp_digits: 6, otp_period: 30, otp_algorithm: 'SHA1', otp_look_ahead: 1 });

      const changed = await callAdmin(c.a.url, token, 'PATCH', '/settings/otp', { otp_digits: 8, otp_algorithm: 'SHA512' });
      expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
      await within(NOTICE_MS, async () => (await c.b.services.runtimeSettings.otpPolicyNow()).digits === 8);
      expect((await c.b.services.factors.beginTotp((await c.a.services.accounts.createUser({ username: 'otto', password: PASSWORD })).id)).parameters).to.deep.equal({ algorithm: 'SHA512', digits: 8, period: 30 });
      await c.a.audit.flush();
      const { events } = await c.a.services.audit.query({ types: ['settings.updated'], limit: 5 });
      expect(events[0]!.target).to.deep.equal({ type: 'settings', id: 'otp' });
      expect(events[0]!.details).to.deep.equal({ fields: ['otp_digits', 'otp_algorithm'], before: { otp_digits: 6, otp_algorithm: 'SHA1' }, after: { otp_digits: 8, otp_algorithm: 'SHA512' } });

      const digits = await callAdmin(c.a.url, token, 'PATCH', '/settings/otp', { otp_digits: 7 });
      expect(digits.status).to.equal(400);
      expect(digits.body.details).to.deep.equal([{ path: 'otp_digits', message: 'must be one of 6, 8', code: 'one_of', params: { values: '6, 8' } }]);
      const period = await callAdmin(c.a.url, token, 'PATCH', '/settings/otp', { otp_period: 45 });
      expect(period.body.details).to.deep.equal([{ path: 'otp_period', message: 'must be one of 30, 60', code: 'one_of', params: { values: '30, 60' } }]);
      const algorithm = await callAdmin(c.a.url, token, 'PATCH', '/settings/otp', { otp_algorithm: 'MD5' });
      expect(algorithm.body.details).to.deep.equal([{ path: 'otp_algorithm', message: 'must be one of SHA1, SHA256, SHA512', code: 'one_of', params: { values: 'SHA1, SHA256, SHA512' } }]);
      const window = await callAdmin(c.a.url, token, 'PATCH', '/settings/otp', { otp_look_ahead: 11 });
      expect(window.body.details).to.deep.equal([{ path: 'otp_look_ahead', message: 'must be at most 10', code: 'too_big', params: { max: 10 } }]);
      const document = (await (await fetch(`${c.a.url}/admin/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
      expect(Object.keys(document.paths['/settings/otp']!)).to.have.members(['get', 'patch']);
    });

    it('the CLI sets and restores it', async () => {
      const set = await runCli(['settings', 'set', 'otp_period=60', 'otp-look-ahead=2', 'otp_digits=default', '--json'], c.cliEnv());
      expect(set.code, set.stderr).to.equal(0);
      const settings = JSON.parse(set.stdout).settings;
      expect(settings.otp_period).to.include({ value: 60, source: 'stored' });
      expect(settings.otp_look_ahead).to.include({ value: 2, source: 'stored' });
      expect(settings.otp_digits).to.include({ value: 6, source: 'default' });
      const bad = await runCli(['settings', 'set', 'otp_algorithm=SHA3'], c.cliEnv());
      expect(bad.code).to.not.equal(0);
      expect(bad.stderr).to.include('otp_algorithm: must be one of SHA1, SHA256, SHA512');
    });
  });

  describe('environment variables pin settings', () => {
    const clock = testClock();
    const c = cluster('otp_pinned', inbox, { redis: true, clock, settings: { GATEHOUSE_OTP_DIGITS: '8', GATEHOUSE_OTP_ALGORITHM: 'SHA256' } });

    it('shows pinned_by and refuses a change with 409; the pinned values are in force', async () => {
      const token = await c.token();
      const shown = await callAdmin(c.a.url, token, 'GET', '/settings/otp');
      expect(shown.body.settings.otp_digits).to.deep.equal({ value: 8, default: 8, source: 'environment', pinned_by: 'GATEHOUSE_OTP_DIGITS', env: 'GATEHOUSE_OTP_DIGITS' });
      const refused = await callAdmin(c.a.url, token, 'PATCH', '/settings/otp', { otp_algorithm: 'SHA1' });
      expect(refused.status).to.equal(409);
      expect(refused.body.error_description).to.include('GATEHOUSE_OTP_ALGORITHM');
      expect((await callAdmin(c.a.url, token, 'PATCH', '/settings/otp', { otp_period: 60 })).status).to.equal(200);
      const user = await c.a.services.accounts.createUser({ username: 'pinned-otp', password: PASSWORD });
      expect((await c.b.services.factors.beginTotp(user.id)).parameters).to.deep.equal({ algorithm: 'SHA256', digits: 8, period: 60 });
    });
  });
});
