import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { asPage, followTo, formsOf, submitForm, UserAgent } from '../helpers/browserless.ts';
import { deployment, givePasskeyRecord, PASSWORD, seed, throwawayAuthorizationUrl, REDIRECT_URI, type Deployment } from '../helpers/e2e.ts';
import { captureLogs } from '../helpers/log-capture.ts';

/** The sign-in page a fresh browser comes to from /auth. */
async function signInPage(issuer: string, clientId: string): Promise<string> {
  const agent = new UserAgent();
  let url = throwawayAuthorizationUrl(issuer, clientId, REDIRECT_URI);
  let response = await agent.request(url);
  while (response.status === 302 || response.status === 303) {
    url = new URL(response.headers.get('location')!, url).toString();
    response = await agent.request(url);
  }
  expect(response.status).to.equal(200);
  return response.text();
}

/** A hosted pages' string (views/locales/en.json). */
function pageString(key: string): string {
  const strings = JSON.parse(readFileSync(new URL('../../views/locales/en.json', import.meta.url), 'utf8')) as Record<string, string>;
  expect(strings[key], key).to.be.a('string');
  return strings[key]!;
}

const FAKE_ASSERTION = '{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}}';

/**
 * WebAuthn's relying party id must be a domain: with an issuer whose host is an IP address no
 * browser makes or uses a passkey. The sign-in page then offers no passkey button (and the
 * account page no enrolment), and the operator is told at startup; `localhost` works.
 */
describe('passkeys on an issuer whose host is an IP address (real stores)', () => {
  const started: Array<{ deploy: Deployment; gatehouse: RunningGatehouse }> = [];
  after(async () => {
    for (const { deploy, gatehouse } of started) {
      await gatehouse.close();
      await deploy.drop();
    }
  });

  async function start(label: string, host?: string) {
    const logs = captureLogs('info');
    const deploy = await deployment(label, host === undefined ? {} : { host, settings: { HOST: '127.0.0.1' } });
    const gatehouse = await deploy.start(undefined, logs.logger);
    started.push({ deploy, gatehouse });
    const cast = await seed(gatehouse);
    return { deploy, gatehouse, cast, logs };
  }

  it('127.0.0.1: no passkey button on the sign-in page, passkeys marked unusable, and a startup warning naming the issuer', async () => {
    const { deploy, gatehouse, cast, logs } = await start('passkeys_ip');
    const html = await signInPage(deploy.issuer, cast.web.clientId);
    expect(html).to.contain('name="password"');
    expect(html).to.not.contain('passkey-login');
    expect(html).to.not.contain('webauthn.js');
    expect(gatehouse.services.passkeys.usable).to.equal(false);
    const warning = logs.lines().find((line) => typeof line.msg === 'string' && line.msg.includes('passkeys'));
    expect(warning, logs.text()).to.not.equal(undefined);
    expect(warning!.level).to.equal('warn');
    expect(warning!.issuer).to.equal(deploy.issuer);
  });

  it('127.0.0.1: a passkey posted to the sign-in page anyway is answered with why passkeys do not work here, not "did not work"', async () => {
    const { deploy, cast } = await start('passkeys_ip_post');
    const agent = new UserAgent();
    const page = asPage(await followTo(agent, throwawayAuthorizationUrl(deploy.issuer, cast.web.clientId, REDIRECT_URI), REDIRECT_URI));
    const answer = asPage(await submitForm(agent, { ...page, html: page.html.replace(/\/login"/, '/passkey-login"') }, 'passkey-login', { response: FAKE_ASSERTION }, REDIRECT_URI));
    expect(answer.status).to.equal(400);
    expect(answer.html).to.contain('role="alert"').and.contain(pageString('passkey.unavailable'));
    expect(answer.html).to.not.contain(pageString('passkey.failed'));
    expect(formsOf(answer.html).some((f) => f.action.endsWith('/login')), 'the sign-in form again').to.equal(true);
  });

  it('127.0.0.1: a user holding a passkey is not offered it at the second step, and one posted anyway is answered with why', async () => {
    const { deploy, gatehouse, cast } = await start('passkeys_ip_mfa');
    await givePasskeyRecord(deploy, gatehouse, cast.user.id);
    const agent = new UserAgent();
    const login = asPage(await followTo(agent, throwawayAuthorizationUrl(deploy.issuer, cast.web.clientId, REDIRECT_URI), REDIRECT_URI));
    const second = asPage(await submitForm(agent, login, 'login', { login: cast.user.username, password: PASSWORD, remember: 'yes' }, REDIRECT_URI));
    expect(second.html).to.contain(pageString('mfa.verify_title'));
    // The user has no authenticator app: the page asks for a recovery code and says why not the passkey.
    expect(second.html).to.contain(pageString('mfa.verify_lead_passkey_unavailable')).and.not.contain(pageString('mfa.verify_lead'));
    expect(second.html).to.not.contain('data-passkey');
    expect(second.html).to.not.contain('webauthn.js');
    const answer = asPage(await submitForm(agent, { ...second, html: second.html.replace(/\/verify"/, '/passkey"') }, 'passkey', { response: FAKE_ASSERTION }, REDIRECT_URI));
    expect(answer.status).to.equal(400);
    expect(answer.html).to.contain(pageString('passkey.unavailable')).and.not.contain(pageString('passkey.failed'));
    expect(answer.html).to.not.contain('data-passkey');
  });

  it('127.0.0.1: enrolment where a second factor is required offers the authenticator app only', async () => {
    const { deploy, gatehouse, cast } = await start('passkeys_ip_enrol');
    const web = (await gatehouse.services.clients.get(cast.web.clientId))!;
    await gatehouse.services.clients.update(cast.web.clientId, { metadata: { ...web.metadata, require_mfa: true } });
    const agent = new UserAgent();
    const login = asPage(await followTo(agent, throwawayAuthorizationUrl(deploy.issuer, cast.web.clientId, REDIRECT_URI), REDIRECT_URI));
    const enrol = asPage(await submitForm(agent, login, 'login', { login: cast.user.username, password: PASSWORD, remember: 'yes' }, REDIRECT_URI));
    expect(enrol.html).to.contain(pageString('mfa.enrol_title'));
    expect(enrol.html).to.not.contain('passkey-register');
    expect(enrol.html).to.not.contain(pageString('passkey.enrol_title'));
    const answer = asPage(await submitForm(agent, { ...enrol, html: enrol.html.replace(/\/enrol"/, '/passkey-register"') }, 'passkey-register', { response: FAKE_ASSERTION, name: 'Key' }, REDIRECT_URI));
    expect(answer.status).to.equal(400);
    expect(answer.html).to.contain(pageString('passkey.unavailable'));
  });

  it('localhost: the passkey button is there, and no warning', async () => {
    const { deploy, gatehouse, cast, logs } = await start('passkeys_localhost', 'localhost');
    const html = await signInPage(deploy.issuer, cast.web.clientId);
    expect(html).to.contain('passkey-login');
    expect(gatehouse.services.passkeys.usable).to.equal(true);
    expect(logs.lines().some((line) => typeof line.msg === 'string' && line.msg.includes('passkeys'))).to.equal(false);
  });

  it('localhost: a user whose only second factor is a passkey is asked for it or a recovery code, not for an app they do not have', async () => {
    const { deploy, gatehouse, cast } = await start('passkeys_localhost_mfa', 'localhost');
    await givePasskeyRecord(deploy, gatehouse, cast.user.id);
    const agent = new UserAgent();
    const login = asPage(await followTo(agent, throwawayAuthorizationUrl(deploy.issuer, cast.web.clientId, REDIRECT_URI), REDIRECT_URI));
    const second = asPage(await submitForm(agent, login, 'login', { login: cast.user.username, password: PASSWORD, remember: 'yes' }, REDIRECT_URI));
    expect(second.html).to.contain('data-passkey');
    expect(second.html).to.contain(pageString('mfa.verify_lead_passkey')).and.not.contain(pageString('mfa.verify_lead'));
  });

  it('localhost: a passkey that did not work is answered with the sign-in form again and 400, like a wrong password', async () => {
    const { deploy, cast } = await start('passkeys_localhost_failed', 'localhost');
    const agent = new UserAgent();
    const page = asPage(await followTo(agent, throwawayAuthorizationUrl(deploy.issuer, cast.web.clientId, REDIRECT_URI), REDIRECT_URI));
    const answer = asPage(await submitForm(agent, page, 'passkey-login', { response: FAKE_ASSERTION }, REDIRECT_URI));
    expect(answer.status).to.equal(400);
    expect(answer.html).to.contain('role="alert"').and.contain(pageString('passkey.failed'));
    expect(formsOf(answer.html).some((f) => f.action.endsWith('/login')), 'the sign-in form again').to.equal(true);
  });
});
