import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { upstreamOperations } from '../../src/operations/upstream.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';
import { freshTab, launchChromium, screenshot } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';
import { codeFlow, webApp, type CodeFlow } from './sign-in.ts';

/**
 * A small real OAuth 2.0 server without OpenID Connect, shaped like GitHub's: authorization
 * code with PKCE (S256 checked), client_secret_post at the token endpoint (JSON answer), a
 * bearer-protected /user endpoint with a numeric `id` and /user/emails (the addresses, for a
 * user whose email is private: /user then says `email: null`). It approves every request (the
 * person "is signed in" there) unless told to refuse.
 */
class ToyOAuthServer {
  readonly clientId = 'toy-client';
  readonly clientSecret = randomBytes(16).toString('hex');
  origin = '';
  refuseAuthorization = false;
  refuseToken = false;
  /** Who is signed in there: the /user answer and the /user/emails list. */
  user: Record<string, unknown> = { id: 4242, login: 'octo', email: 'octo@gh.example', name: 'Octo Cat', avatar_url: 'https://avatars.example/octo.png' };
  emails: Array<{ email: string; primary: boolean; verified: boolean }> = [];
  readonly seen: { tokenAuth?: string; pkce?: boolean; emailsAsked?: number } = {};
  #server: Server | undefined;
  readonly #codes = new Map<string, { challenge: string; redirectUri: string }>();
  readonly #tokens = new Set<string>();

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', this.origin);
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === '/login/oauth/authorize') {
        const redirect = new URL(url.searchParams.get('redirect_uri') ?? '');
        redirect.searchParams.set('state', url.searchParams.get('state') ?? '');
        if (this.refuseAuthorization) {
          redirect.searchParams.set('error', 'access_denied');
        } else {
          if (url.searchParams.get('client_id') !== this.clientId || url.searchParams.get('code_challenge_method') !== 'S256') return json(400, { error: 'invalid_request' });
          const code = randomBytes(12).toString('hex');
          this.#codes.set(code, { challenge: url.searchParams.get('code_challenge') ?? '', redirectUri: url.searchParams.get('redirect_uri') ?? '' });
          redirect.searchParams.set('code', code);
        }
        res.writeHead(302, { location: redirect.href });
        return res.end();
      }
      if (url.pathname === '/login/oauth/access_token' && req.method === 'POST') {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
          this.seen.tokenAuth = form.has('client_secret') ? 'client_secret_post' : req.headers.authorization?.startsWith('Basic ') ? 'client_secret_basic' : 'none';
          const grant = this.#codes.get(form.get('code') ?? '');
          this.#codes.delete(form.get('code') ?? '');
          const verifier = form.get('code_verifier') ?? '';
          this.seen.pkce = grant !== undefined && createHash('sha256').update(verifier).digest('base64url') === grant.challenge;
          if (this.refuseToken || grant === undefined || !this.seen.pkce || form.get('client_secret') !== this.clientSecret || form.get('redirect_uri') !== grant.redirectUri) {
            return json(400, { error: 'invalid_grant' });
          }
          const token = randomBytes(16).toString('hex');
          this.#tokens.add(token);
          json(200, { access_token: token, token_type: 'bearer', scope: 'read:user' });
        });
        return;
      }
      if (url.pathname === '/user') {
        const token = req.headers.authorization?.replace(/^Bearer /i, '') ?? '';
        if (!this.#tokens.has(token)) return json(401, { message: 'Bad credentials' });
        return json(200, this.user);
      }
      if (url.pathname === '/user/emails') {
        const token = req.headers.authorization?.replace(/^Bearer /i, '') ?? '';
        if (!this.#tokens.has(token)) return json(401, { message: 'Bad credentials' });
        this.seen.emailsAsked = (this.seen.emailsAsked ?? 0) + 1;
        return json(200, this.emails.map((entry) => ({ ...entry, visibility: entry.primary ? 'private' : null })));
      }
      json(404, { message: 'Not Found' });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.origin = `http://localhost:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.#server === undefined ? resolve() : this.#server.close(() => resolve())));
  }
}

describe('upstream OAuth 2.0 (non-OIDC) sign-in against a small real OAuth server (GitHub preset)', function () {
  this.timeout(120_000);
  const toy = new ToyOAuthServer();
  const app = new RelyingPartyServer();
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let portal: oidc.Configuration;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let flow: CodeFlow;

  async function begin() {
    ({ context, page } = await freshTab(browser, context));
    flow = codeFlow(page, portal, app);
    return flow.start({ scope: 'openid profile email' });
  }

  before(async () => {
    await toy.start();
    await app.start();
    deploy = await deployment('e2e_upstream_oauth2');
    gatehouse = await deploy.start();
    portal = await webApp(gatehouse, deploy.issuer, app, { displayName: 'Portal', scope: 'openid profile email' });
    const shown = upstreamOperations(gatehouse.services).show(
      await upstreamOperations(gatehouse.services).create({ actor: { type: 'system', id: 'test' } }, {
        alias: 'github',
        preset: 'github',
        // The preset's endpoints, pointed at the toy server.
        authorization_endpoint: `${toy.origin}/login/oauth/authorize`,
        token_endpoint: `${toy.origin}/login/oauth/access_token`,
        userinfo_endpoint: `${toy.origin}/user`,
        client_id: toy.clientId,
        client_secret: toy.clientSecret,
      }),
    );
    expect(shown).to.deep.include({ kind: 'oauth2', display_name: 'GitHub', token_endpoint_auth_method: 'client_secret_post', redirect_uri: `${deploy.issuer}/upstream/github/callback` });
    expect(shown.claims).to.deep.include({ subject: 'id', username: 'login' });
    browser = await launchChromium();
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await gatehouse?.close();
    await app.close();
    await toy.close();
    await deploy?.drop();
  });

  it('creates the account from the user endpoint: subject = the numeric id, username = login, PKCE and client_secret_post used', async () => {
    const checks = await begin();
    await page.click('a.upstream[data-provider=github]');
    await page.waitForSelector('#upstream-create');
    await page.click('#upstream-create');
    const tokens = await flow.grant(checks);
    const claims = tokens.claims()!;
    expect(claims.amr).to.deep.equal(['fed']);
    const userinfo = await oidc.fetchUserInfo(portal, tokens.access_token, claims.sub);
    expect(userinfo).to.deep.include({ preferred_username: 'octo', name: 'Octo Cat', email: 'octo@gh.example', email_verified: false });
    expect(toy.seen).to.deep.equal({ tokenAuth: 'client_secret_post', pkce: true });
    expect(toy.seen.emailsAsked, '/user gave an email: no /user/emails call').to.equal(undefined);
    expect((await gatehouse.services.upstream.findLink('github', '4242'))?.userId).to.equal(claims.sub);

    // Linked now: the next sign-in goes straight through (via the continue page).
    const again = await begin();
    await page.click('a.upstream[data-provider=github]');
    expect((await flow.tokens(again)).sub).to.equal(claims.sub);
  });

  it('a private email: takes the primary verified address from /user/emails (verified); an unverified primary is not used', async () => {
    toy.user = { id: 5151, login: 'hidden', email: null, name: 'Hidden Cat' };
    toy.emails = [
      { email: 'old@gh.example', primary: false, verified: true },
      { email: 'hidden@gh.example', primary: true, verified: true },
    ];
    const checks = await begin();
    await page.click('a.upstream[data-provider=github]');
    await page.waitForSelector('#upstream-create');
    await page.click('#upstream-create');
    const tokens = await flow.grant(checks);
    const userinfo = await oidc.fetchUserInfo(portal, tokens.access_token, tokens.claims()!.sub);
    expect(userinfo).to.deep.include({ preferred_username: 'hidden', email: 'hidden@gh.example', email_verified: true });
    expect(toy.seen.emailsAsked).to.equal(1);

    toy.user = { id: 5252, login: 'unverified', email: null, name: 'Unverified Cat' };
    toy.emails = [
      { email: 'unverified@gh.example', primary: true, verified: false },
      { email: 'second@gh.example', primary: false, verified: true },
    ];
    const second = await begin();
    await page.click('a.upstream[data-provider=github]');
    await page.waitForSelector('#upstream-create');
    await page.click('#upstream-create');
    const secondTokens = await flow.grant(second);
    const secondInfo = await oidc.fetchUserInfo(portal, secondTokens.access_token, secondTokens.claims()!.sub);
    expect(secondInfo).to.deep.include({ preferred_username: 'unverified' });
    expect(secondInfo.email, 'an unverified primary is not taken').to.equal(undefined);
    expect(toy.seen.emailsAsked).to.equal(2);
  });

  it('shows a friendly page when the server refuses the authorization, and when it refuses the code', async () => {
    toy.refuseAuthorization = true;
    await begin();
    await page.click('a.upstream[data-provider=github]');
    await page.waitForSelector('#upstream-back');
    expect(await page.textContent('main')).to.contain('cancelled or refused');
    toy.refuseAuthorization = false;

    toy.refuseToken = true;
    await begin();
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().includes('/upstream/github/callback')), page.click('a.upstream[data-provider=github]')]);
    expect(response.status()).to.equal(502);
    await page.waitForSelector('#upstream-back');
    expect(await page.textContent('main')).to.contain('could not complete the sign-in with GitHub');
    await screenshot(page, 'upstream-oauth2-failed');
    toy.refuseToken = false;
  });
});
