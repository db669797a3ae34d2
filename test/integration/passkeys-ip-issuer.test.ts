import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { UserAgent } from '../helpers/browserless.ts';
import { deployment, seed, throwawayAuthorizationUrl, REDIRECT_URI, type Deployment } from '../helpers/e2e.ts';
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

  it('localhost: the passkey button is there, and no warning', async () => {
    const { deploy, gatehouse, cast, logs } = await start('passkeys_localhost', 'localhost');
    const html = await signInPage(deploy.issuer, cast.web.clientId);
    expect(html).to.contain('passkey-login');
    expect(gatehouse.services.passkeys.usable).to.equal(true);
    expect(logs.lines().some((line) => typeof line.msg === 'string' && line.msg.includes('passkeys'))).to.equal(false);
  });
});
