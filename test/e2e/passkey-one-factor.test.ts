import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { deriveKey } from '../../src/crypto/secret-box.ts';
import { passkeyChallenge } from '../../src/mfa/passkeys.ts';
import { totpCode } from '../../src/mfa/totp.ts';
import { ACR } from '../../src/oidc/acr.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { noCspViolationsAfterEach, reportFailedPage, type VirtualAuthenticator } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';
import { passkeyBrowser, submitPassword, webApp, type CodeFlow } from './sign-in.ts';

/**
 * A passkey assertion without user verification (a security key whose PIN nobody entered: a
 * client that talks to the key itself simply does not ask for it) signs in without a password as
 * ONE factor, so the second factor is asked for. That second factor must be something else: the
 * same key touched twice is still one factor, and would make the key alone (lost or stolen) a
 * full two-factor sign-in, password never typed.
 */
describe('a passkey without user verification is one factor, never its own second (headless Chromium, WebAuthn over CDP)', function () {
  this.timeout(120_000);
  const rp = new RelyingPartyServer();
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let authenticator: VirtualAuthenticator;
  let flow: CodeFlow;
  let userId: string;
  let cspViolations: string[] = [];
  let now = new Date('2026-06-01T10:00:05Z');

  before(async () => {
    await rp.start();
    deploy = await deployment('e2e_passkey_one_factor', { host: 'localhost', settings: { GATEHOUSE_MFA_REQUIRED_ROLES: 'finance', HOST: '127.0.0.1' }, secondFactorClock: () => now });
    gatehouse = await deploy.start();
    userId = (await gatehouse.services.accounts.createUser({ username: 'hank', password: PASSWORD, roles: ['finance'] })).id;
    const app = await webApp(gatehouse, deploy.issuer, rp);
    ({ browser, context, page, cspViolations, authenticator, flow } = await passkeyBrowser(app, rp));
  });

  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await rp.close();
    await deploy?.drop();
  });

  noCspViolationsAfterEach(() => cspViolations);

  /**
   * What a client that talks to the key itself (not a browser page) can do: ask for an assertion
   * WITHOUT user verification for one of this sign-in's challenges, and post it to the step's
   * action with the browser's cookies. The assertion is made from a page of the same origin with
   * no WebAuthn request of its own pending; the answer is returned, not followed.
   */
  async function postAssertion(uid: string, purpose: 'login' | 'second-factor', action: string, csrf: string, credentialId: string) {
    const challenge = passkeyChallenge(deriveKey(deploy.secret, 'passkey-challenges'), uid, purpose);
    await page.goto(`${deploy.issuer}/healthz`);
    const response = await page.evaluate(
      async ({ challenge, id }) => {
        const bytes = (text: string) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
        const text = (buffer: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
        const credential = (await navigator.credentials.get({
          publicKey: { challenge: bytes(challenge), rpId: location.hostname, allowCredentials: [{ type: 'public-key', id: bytes(id) }], userVerification: 'discouraged' },
        })) as PublicKeyCredential;
        const assertion = credential.response as AuthenticatorAssertionResponse;
        return JSON.stringify({
          id: credential.id,
          rawId: text(credential.rawId),
          type: credential.type,
          response: {
            clientDataJSON: text(assertion.clientDataJSON),
            authenticatorData: text(assertion.authenticatorData),
            signature: text(assertion.signature),
            ...(assertion.userHandle === null ? {} : { userHandle: text(assertion.userHandle) }),
          },
          clientExtensionResults: {},
        });
      },
      { challenge, id: credentialId },
    );
    // Without user verification: the authenticator data's UV flag (bit 2) is clear.
    const flags = Buffer.from((JSON.parse(response) as { response: { authenticatorData: string } }).response.authenticatorData, 'base64url')[32]!;
    expect(flags & 0x04, 'user verified').to.equal(0);
    return context.request.post(`${deploy.issuer}/interaction/${uid}/${action}`, { form: { csrf, response }, maxRedirects: 0 });
  }

  const uidOf = (url: string) => /\/interaction\/([^/?#]+)/.exec(url)![1]!;

  it('enrols a passkey as the second factor after the password', async () => {
    const checks = await flow.start();
    await submitPassword(page, 'hank');
    await page.waitForSelector('form.passkey:not([hidden])');
    await page.fill('#passkey-name', 'Key');
    await page.click('[data-passkey=register]');
    await page.waitForSelector('.recovery-codes');
    await page.click('a.button.primary');
    const claims = await flow.tokens(checks);
    expect(claims.amr).to.deep.equal(['pwd', 'hwk', 'mfa']);
  });

  it('signed in with the key alone (no user verification), asks for a code: the key is not offered again, and refused when posted anyway', async () => {
    const { secret } = await gatehouse.services.factors.beginTotp(userId);
    expect((await gatehouse.services.factors.confirmTotp(userId, totpCode(secret, now), '192.0.2.1')).ok).to.equal(true);
    now = new Date(now.getTime() + 60_000);
    const [key] = await gatehouse.services.passkeys.list(userId);

    await context.clearCookies();
    // Nobody picks the passkey the sign-in page offers in autofill.
    await authenticator.presence(false);
    const checks = await flow.start();
    await page.waitForSelector('form[action$="/login"]');
    const uid = uidOf(page.url());
    await authenticator.presence(true);
    // The key alone, without user verification: one factor, the second is asked for.
    const signedIn = await postAssertion(uid, 'login', 'passkey-login', await page.inputValue('form[action$="/login"] input[name=csrf]'), key!.id);
    expect(signedIn.status(), await signedIn.text()).to.equal(303);
    await page.goto(new URL(signedIn.headers().location!, deploy.issuer).href);
    await page.waitForSelector('#code');
    expect(await page.locator('[data-passkey=authenticate]').count(), 'the same key offered as the second factor').to.equal(0);

    // The same key again, for the second-factor challenge: refused, not a way back to the app.
    const mfaUid = uidOf(page.url());
    const again = await postAssertion(mfaUid, 'second-factor', 'passkey', await page.inputValue('form[action$="/verify"] input[name=csrf]'), key!.id);
    expect(again.headers().location ?? '', 'past the second factor with the same key').to.not.match(new RegExp(`^${rp.origin}`));
    expect(again.status()).to.equal(400);
    expect(await again.text()).to.contain('That passkey did not work here');
    await page.goto(`${deploy.issuer}/interaction/${mfaUid}`);
    await page.waitForSelector('#code');

    // The app's code is a second factor.
    await page.fill('#code', totpCode(secret, now));
    await page.click('form[action$="/verify"] button.primary');
    const claims = await flow.tokens(checks);
    expect(claims.sub).to.equal(userId);
    expect(claims.amr).to.deep.equal(['hwk', 'otp', 'mfa']);
    expect(claims.acr).to.equal(ACR.multiFactor);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await reportFailedPage(page, `passkey-one-factor-failed-${this.currentTest.title.slice(0, 24).replace(/\W+/g, '-')}`, 600);
  });
});
