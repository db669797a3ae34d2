import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { formsOf, signIn, UserAgent } from '../helpers/browserless.ts';
import { instanceForSuite } from '../helpers/e2e.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

const REDIRECT = 'https://app.example.test/callback';
const PASSWORD = 'correct horse battery';

/** Stands for what differs per request by design: CSRF token, interaction uid, request id, passkey challenge. */
function normalized(html: string, login: string): string {
  return html
    .replace(/name="csrf" value="[^"]+"/g, 'name="csrf" value="CSRF"')
    .replace(/"challenge":"[A-Za-z0-9_-]+"/g, '"challenge":"CHALLENGE"')
    .replace(/\/interaction\/[A-Za-z0-9_-]+\//g, '/interaction/UID/')
    .replace(/return=\/interaction\/[A-Za-z0-9_-]+"/g, 'return=/interaction/UID"')
    .replace(/\?interaction=[A-Za-z0-9_-]+"/g, '?interaction=UID"')
    .replace(/<code>[0-9a-f-]{36}<\/code>/g, '<code>REQUEST-ID</code>')
    .replace(`value="${login}"`, 'value="LOGIN"');
}

for (const withRedis of [true, false]) {
  describe(`hosted pages over plain HTTP (${withRedis ? 'Redis' : 'MongoDB-wire only'})`, () => {
    const pages = instanceForSuite(`pages_${withRedis ? 'redis' : 'mongo'}`, {
      redis: withRedis,
      // Behind a proxy hop: a test sends X-Forwarded-For to come from an address of its own.
      settings: { GATEHOUSE_LOCKOUT_THRESHOLD: '2', GATEHOUSE_CLIENT_AUTH_FAILURE_LIMIT: '3', GATEHOUSE_USER_CODE_FAILURE_LIMIT: '3', GATEHOUSE_TRUST_PROXY: 'true' },
    });
    let gatehouse: RunningGatehouse;
    let issuer: string;
    let clientId: string;
    let clientSecret: string;
    let n = 0;

    before(async () => {
      ({ gatehouse, deploy: { issuer } } = pages);
      const created = await gatehouse.services.clients.create({
        displayName: 'Expense Tracker',
        metadata: {
          redirect_uris: [REDIRECT],
          post_logout_redirect_uris: ['https://app.example.test/bye'],
          grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      });
      clientId = created.client.clientId;
      clientSecret = created.secret!;
    });

    async function newUser() {
      const username = `user${++n}`;
      const user = await gatehouse.services.accounts.createUser({ username, email: `${username}@example.com`, password: PASSWORD });
      return { id: user.id, username };
    }

    function authorizeUrl(extra: Record<string, string> = {}): string {
      const verifier = randomBytes(32).toString('base64url');
      const url = new URL('/auth', issuer);
      url.search = new URLSearchParams({
        client_id: clientId,
        redirect_uri: REDIRECT,
        response_type: 'code',
        scope: 'openid',
        state: randomBytes(8).toString('hex'),
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        ...extra,
      }).toString();
      return url.toString();
    }

    /** Follows /auth to the first page and returns it. */
    async function firstPage(agent: UserAgent, url: string, headers: Record<string, string> = {}) {
      let response = await agent.request(url, { headers });
      while (response.status === 303 || response.status === 302) {
        url = new URL(response.headers.get('location')!, url).toString();
        if (url.startsWith(REDIRECT)) return { response, html: '', url };
        response = await agent.request(url, { headers });
      }
      return { response, html: await response.text(), url };
    }

    it('renders Korean for ui_locales=ko, Russian for Accept-Language ru, and ui_locales wins over the header', async () => {
      const ko = await firstPage(new UserAgent(), authorizeUrl({ ui_locales: 'ko' }), { 'accept-language': 'ru' });
      expect(ko.html).to.contain('<html lang="ko">').and.contain('로그인').and.contain('비밀번호');
      const ru = await firstPage(new UserAgent(), authorizeUrl(), { 'accept-language': 'de;q=1, ru-RU;q=0.8, en;q=0.5' });
      expect(ru.html).to.contain('<html lang="ru">').and.contain('Пароль');
      const zh = await firstPage(new UserAgent(), authorizeUrl({ ui_locales: 'fr zh-Hans' }));
      expect(zh.html).to.contain('<html lang="zh-CN">').and.contain('密码');
      const en = await firstPage(new UserAgent(), authorizeUrl(), { 'accept-language': 'fr' });
      expect(en.html).to.contain('<html lang="en">').and.contain('Password');
    });

    it('serves pages uncached, framed by nobody, under a CSP without inline script that lets forms reach the client', async () => {
      const agent = new UserAgent();
      const { response } = await firstPage(agent, authorizeUrl());
      expect(response.headers.get('cache-control')).to.equal('no-store');
      const csp = response.headers.get('content-security-policy')!;
      expect(csp).to.contain("frame-ancestors 'none'").and.contain("script-src 'self'").and.contain("default-src 'none'");
      expect(csp).not.to.contain('unsafe-inline');
      expect(csp).to.match(/form-action 'self' https:\/\/app\.example\.test(;|$)/);
      expect(response.headers.get('x-frame-options')).to.equal('DENY');
      expect(response.headers.get('strict-transport-security')).to.equal(null); // plain HTTP
      const cookies = (await agent.request(authorizeUrl())).headers.getSetCookie();
      expect(cookies.length).to.be.greaterThan(0);
      for (const cookie of cookies) expect(cookie).to.match(/httponly/i).and.match(/samesite=lax/i).and.not.match(/;\s*secure/i);
    });

    it('rejects a form without its CSRF token with a localized 403 page (no support reference: reloading puts it right)', async () => {
      const agent = new UserAgent();
      const { html, url } = await firstPage(agent, authorizeUrl({ ui_locales: 'ru' }));
      const login = formsOf(html).find((form) => form.action.endsWith('/login'))!;
      const response = await agent.postForm(new URL(login.action, url).toString(), { login: 'x', password: 'y' });
      expect(response.status).to.equal(403);
      const page = await response.text();
      expect(page).to.contain('<html lang="ru">').and.contain('Срок действия формы истёк');
      expect(page).not.to.contain('class="reference"');
      const wrong = await agent.postForm(new URL(login.action, url).toString(), { csrf: 'A'.repeat(43), login: 'x', password: 'y' });
      expect(wrong.status).to.equal(403);
    });

    it('answers unknown user, wrong password, locked and disabled accounts with byte-identical pages', async () => {
      const wrong = await newUser();
      const locked = await newUser();
      const disabled = await newUser();
      await gatehouse.services.accounts.disable(disabled.id);
      const attempt = async (login: string, password: string) => {
        const agent = new UserAgent();
        const { html, url } = await firstPage(agent, authorizeUrl());
        const form = formsOf(html).find((f) => f.action.endsWith('/login'))!;
        const response = await agent.postForm(new URL(form.action, url).toString(), { ...form.fields, login, password });
        return { status: response.status, html: normalized(await response.text(), login), type: response.headers.get('content-type') };
      };
      for (let i = 0; i < 2; i++) await attempt(locked.username, 'wrong password');
      const results = [
        await attempt('nobody-by-this-name', PASSWORD),
        await attempt(wrong.username, 'not the password'),
        await attempt(locked.username, PASSWORD),
        await attempt(disabled.username, PASSWORD),
      ];
      for (const result of results) expect(result).to.deep.equal(results[0]);
      // A form shown again with the person's error answers 400, whatever the reason (README "Hosted pages").
      expect(results[0]!.status).to.equal(400);
      expect(results[0]!.html).to.contain('role="alert"').and.contain('Sign-in failed');
    });

    it('remembers consent per user, client and scopes, and asks again (only for what is new) when scopes grow', async () => {
      const user = await newUser();
      const agent = new UserAgent();
      const first = await signIn(agent, authorizeUrl(), REDIRECT, { username: user.username, password: PASSWORD });
      expect(first.sawLogin && first.sawConsent).to.equal(true);
      const again = await signIn(agent, authorizeUrl(), REDIRECT);
      expect(again.sawConsent).to.equal(false);
      expect(again.callback.searchParams.get('code')).to.be.a('string');

      const wider = await firstPage(agent, authorizeUrl({ scope: 'openid email' }));
      expect(wider.html).to.contain('See your email address').and.not.contain('Confirm who you are');
      const widened = await signIn(agent, authorizeUrl({ scope: 'openid email' }), REDIRECT);
      expect(widened.sawConsent).to.equal(true);
      expect((await signIn(agent, authorizeUrl({ scope: 'openid email' }), REDIRECT)).sawConsent).to.equal(false);
      // Another user on another browser is asked for themselves.
      const other = await newUser();
      expect((await signIn(new UserAgent(), authorizeUrl(), REDIRECT, { username: other.username, password: PASSWORD })).sawConsent).to.equal(true);
    });

    it('shows the sign-in page again when the signed-in user was disabled mid-session', async () => {
      const user = await newUser();
      const agent = new UserAgent();
      await signIn(agent, authorizeUrl(), REDIRECT, { username: user.username, password: PASSWORD });
      await gatehouse.services.accounts.disable(user.id);
      const next = await firstPage(agent, authorizeUrl());
      expect(next.response.status).to.equal(200);
      expect(formsOf(next.html).some((form) => form.action.endsWith('/login'))).to.equal(true);
      const form = formsOf(next.html).find((f) => f.action.endsWith('/login'))!;
      const retry = await agent.postForm(new URL(form.action, next.url).toString(), { ...form.fields, login: user.username, password: PASSWORD });
      expect(retry.status).to.equal(400);
      expect(await retry.text()).to.contain('Sign-in failed');
    });

    it('renders provider errors as a friendly localized page with the code but no support reference (the application is at fault)', async () => {
      const response = await new UserAgent().request(`${issuer}/auth?client_id=unknown-app&response_type=code&scope=openid&ui_locales=zh-CN`, {
        headers: { accept: 'text/html' },
      });
      expect(response.status).to.equal(400);
      const html = await response.text();
      expect(html).to.contain('<html lang="zh-CN">').and.contain('出现问题');
      expect(html).not.to.contain('class="reference"');
      expect(html).to.contain('invalid_client');
      expect(html).not.to.match(/at \w+ \(|node_modules|Error:/);
      expect(response.headers.get('cache-control')).to.equal('no-store');
    });

    it('limits failed client authentication at the token endpoint (429 + Retry-After)', async () => {
      const basic = (secret: string) => clientSecretBasic(clientId, secret);
      const token = (secret: string) =>
        fetch(`${issuer}/token`, {
          method: 'POST',
          headers: { authorization: basic(secret), 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=authorization_code&code=nope&redirect_uri=' + encodeURIComponent(REDIRECT),
        });
      expect((await token(clientSecret)).status).to.equal(400); // invalid_grant: authenticated, not counted
      for (let i = 0; i < 3; i++) expect((await token('wrong-secret')).status).to.equal(401);
      // Each failure is counted before its response leaves: the very next request is limited.
      const limited = await token(clientSecret);
      expect(limited.status).to.equal(429);
      expect(Number(limited.headers.get('retry-after'))).to.be.greaterThan(0);
      expect(await limited.json()).to.include({ error: 'invalid_client' });
      // The provider's router ignores case and trailing slashes; so does the gate.
      for (const variant of ['/TOKEN', '/token/', '/Token/Introspection']) {
        const sneaky = await fetch(`${issuer}${variant}`, {
          method: 'POST',
          headers: { authorization: basic(clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=authorization_code&code=nope&redirect_uri=' + encodeURIComponent(REDIRECT),
        });
        expect(sneaky.status, variant).to.equal(429);
      }
    });

    it('limits wrong device user codes per IP with a localized 429 page', async () => {
      const agent = new UserAgent();
      const page = await agent.request(`${issuer}/device`, { headers: { 'accept-language': 'ko' } });
      const html = await page.text();
      expect(html).to.contain('<html lang="ko">').and.contain('기기 코드').and.contain('<label for="user_code">');
      const form = formsOf(html)[0]!;
      for (let i = 0; i < 3; i++) {
        const wrong = await agent.postForm(`${issuer}/device`, { ...form.fields, user_code: 'BCDF-GHJK' });
        expect(wrong.status).to.equal(400);
        const body = await wrong.text();
        expect(body).to.contain('role="alert"');
        form.fields.xsrf = formsOf(body)[0]!.fields.xsrf!;
      }
      const limited = await agent.postForm(`${issuer}/device`, { ...form.fields, user_code: 'BCDF-GHJK' });
      expect(limited.status).to.equal(429);
      expect(limited.headers.get('retry-after')).to.match(/^\d+$/);
    });

    it('of wrong device user codes sent together from one address, exactly the limit are checked', async () => {
      // From an address no other test uses (the suite trusts one proxy hop); one session per request.
      const headers = { 'x-forwarded-for': `198.51.100.${10 + Math.floor(Math.random() * 200)}` };
      const agents = Array.from({ length: 12 }, () => new UserAgent());
      const forms = await Promise.all(agents.map(async (agent) => formsOf(await (await agent.request(`${issuer}/device`, { headers })).text())[0]!));
      const answers = await Promise.all(
        agents.map((agent, i) =>
          agent.request(`${issuer}/device`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ ...forms[i]!.fields, user_code: 'BCDF-GHJK' }).toString(),
          }),
        ),
      );
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses).to.deep.equal([...Array<number>(3).fill(400), ...Array<number>(9).fill(429)]);
    });
  });
}
