import { expect } from 'chai';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ACR } from '../../src/oidc/acr.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { twoInstances, type TwoInstances } from '../helpers/two-instances.ts';
import { expectAccessible as expectPageAccessible, noCspViolationsAfterEach, type VirtualAuthenticator } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';
import { passkeyBrowser, submitPassword, webApp, type CodeFlow, type FlowChecks } from './sign-in.ts';

const LOCALES = ['en', 'ru', 'zh-CN', 'ko'] as const;

/**
 * Passkeys across instances: a passkey enrolled on instance A signs in on instance B (same issuer,
 * same stores), and the passkey pages pass axe in every language. The browser keeps the issuer's
 * origin (the WebAuthn relying party id and origin) while B serves it through a reverse proxy on
 * the issuer's port; A is stopped first, so nothing can quietly reach it.
 */
describe('passkeys on two instances (enrol on A, sign in on B) and the passkey pages in four languages', function () {
  this.timeout(180_000);
  const rp = new RelyingPartyServer();
  let instances: TwoInstances;
  let deploy: Deployment;
  let b: RunningGatehouse;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let authenticator: VirtualAuthenticator;
  const presence = (enabled: boolean) => authenticator.presence(enabled);
  let flow: CodeFlow;
  let userId: string;
  /** Origins that actually answered the browser's requests to the issuer. */
  const servedBy = new Set<string>();
  let proxy: Server | undefined;
  let cspViolations: string[] = [];
  const expectAccessible = (name: string) => expectPageAccessible(page, name);
  const start = (parameters?: Record<string, string>) => flow.start(parameters);
  const tokens = (checks: FlowChecks) => flow.tokens(checks);
  const password = (username: string) => submitPassword(page, username);

  /**
   * A stands in for a load balancer: once A is stopped, a plain reverse proxy on the issuer's
   * port (the origin the passkey is bound to) forwards every request, Host header included, to B.
   */
  async function issuerPortToB() {
    const target = new URL(b.url);
    proxy = createServer((request, response) => {
      servedBy.add(target.origin);
      const upstream = httpRequest({ host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      });
      upstream.on('error', () => response.destroy());
      request.pipe(upstream);
    });
    const issuerPort = Number(new URL(deploy.issuer).port);
    await new Promise<void>((resolve, reject) => {
      proxy!.once('error', reject);
      proxy!.listen(issuerPort, '127.0.0.1', resolve);
    });
  }

  before(async () => {
    await rp.start();
    instances = await twoInstances('e2e_passkeys_two', { host: 'localhost', settings: { GATEHOUSE_MFA_REQUIRED_ROLES: 'finance', HOST: '127.0.0.1' } });
    ({ deploy, b } = instances);
    const { a } = instances;
    userId = (await a.services.accounts.createUser({ username: 'grace', password: PASSWORD, roles: ['finance'] })).id;
    await a.services.accounts.createUser({ username: 'heidi', password: PASSWORD, roles: ['finance'] });
    const app = await webApp(a, deploy.issuer, rp);
    ({ browser, context, page, cspViolations, authenticator, flow } = await passkeyBrowser(app, rp));
  });

  after(async () => {
    await browser?.close();
    await instances?.stopA();
    proxy?.closeAllConnections();
    await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
    await instances?.stop();
    await rp.close();
  });

  noCspViolationsAfterEach(() => cspViolations);

  it('enrols a passkey on instance A', async () => {
    const checks = await start();
    await password('grace');
    await page.waitForSelector('form.passkey:not([hidden])');
    await page.fill('#passkey-name', 'Laptop');
    await page.click('[data-passkey=register]');
    await page.waitForSelector('.recovery-codes');
    await page.click('a.button.primary');
    const claims = await tokens(checks);
    expect(claims.amr).to.deep.equal(['pwd', 'hwk', 'mfa']);
    expect(servedBy.size, 'A served the enrolment directly').to.equal(0);
  });

  it('signs in with that passkey as the second factor on instance B after A stopped', async () => {
    await instances.stopA();
    await issuerPortToB();
    await context.clearCookies();
    await presence(false);
    const checks = await start();
    await password('grace');
    await page.waitForSelector('form.passkey:not([hidden]) [data-passkey=authenticate]');
    await presence(true);
    await page.click('[data-passkey=authenticate]');
    const claims = await tokens(checks);
    expect(claims.sub).to.equal(userId);
    expect(claims.amr).to.deep.equal(['pwd', 'hwk', 'mfa']);
    expect(claims.acr).to.equal(ACR.multiFactor);
    expect([...servedBy]).to.deep.equal([new URL(b.url).origin]);
    expect((await b.services.passkeys.list(userId))[0]!.lastUsedAt).to.be.instanceOf(Date);
  });

  it('signs in on instance B without a password (autofill, discoverable credential)', async () => {
    await context.clearCookies();
    const checks = await start();
    const claims = await tokens(checks);
    expect(claims.sub).to.equal(userId);
    expect(claims.amr).to.deep.equal(['hwk', 'mfa']);
    expect(claims.acr).to.equal(ACR.multiFactor);
  });

  it('the sign-in page offering the passkey (autofill) is accessible in every language', async () => {
    await presence(false);
    for (const locale of LOCALES) {
      await context.clearCookies();
      await start({ ui_locales: locale });
      await page.waitForSelector('form.passkey[data-passkey-autofill]:not([hidden]) [data-passkey=authenticate]');
      expect(await page.getAttribute('html', 'lang')).to.equal(locale);
      expect(await page.getAttribute('#username', 'autocomplete')).to.contain('webauthn');
      await expectAccessible(`passkey-sign-in-${locale}`);
    }
  });

  it('the passkey second-factor page is accessible in every language', async () => {
    await presence(false);
    for (const locale of LOCALES) {
      await context.clearCookies();
      await start({ ui_locales: locale });
      await password('grace');
      await page.waitForSelector('form.passkey:not([hidden]) [data-passkey=authenticate]');
      expect(await page.getAttribute('html', 'lang')).to.equal(locale);
      await expectAccessible(`passkey-second-factor-${locale}`);
    }
    await presence(true);
  });

  it('the passkey enrolment page is accessible in every language', async () => {
    await presence(false);
    for (const locale of LOCALES) {
      await context.clearCookies();
      await start({ ui_locales: locale });
      await password('heidi');
      await page.waitForSelector('form.passkey:not([hidden]) [data-passkey=register]');
      expect(await page.getAttribute('html', 'lang')).to.equal(locale);
      await expectAccessible(`passkey-enrol-${locale}`);
    }
    await presence(true);
  });
});
