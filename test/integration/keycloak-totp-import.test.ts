import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { Secret, TOTP } from 'otpauth';
import { factorModels } from '../../src/mfa/model.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { asPage, formsOf, followTo, submitForm, UserAgent, type AgentPage } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, REDIRECT_URI, relyingParty, seed, type Deployment } from '../helpers/e2e.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/keycloak/realm-export-totp.json', import.meta.url));
const REALM_EXPORT = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { users: Array<{ id: string; username: string }> };

/**
 * The fixture's users, each with the secret Keycloak 26.7.3 showed on its own "Mobile
 * Authenticator Setup" page when they enrolled (make-totp-fixture.sh), and the OTP policy in
 * force then. Codes are computed here as an authenticator app does from that page: otpauth over
 * the secret's UTF-8 bytes — independently of how Gatehouse stores it.
 */
const ENROLLED = [
  { username: 'fay-totp', password: 'Totp password #6', secret: '3yQhTkf7E2LiJyhN5f20', algorithm: 'SHA1', digits: 6, period: 30 },
  { username: 'gus-totp-sha256', password: 'Totp password #7', secret: 'jGgsxdcRkB9jR4uqusWF', algorithm: 'SHA256', digits: 8, period: 60 },
  { username: 'hal-totp-sha512', password: 'Totp password #8', secret: 'PDo4GvS4yVzOmr9xk3TK', algorithm: 'SHA512', digits: 6, period: 30 },
] as const;
const app = (user: (typeof ENROLLED)[number]) =>
  new TOTP({ secret: Secret.fromUTF8(user.secret), algorithm: user.algorithm, digits: user.digits, period: user.period });

type Page = AgentPage;
const follow = (agent: UserAgent, url: string) => followTo(agent, url, REDIRECT_URI);
const submit = (agent: UserAgent, page: Page, action: string, fields: Record<string, string> = {}) => submitForm(agent, page, action, fields, REDIRECT_URI);
const formAction = (value: Page | URL) => (value instanceof URL ? 'callback' : (formsOf(value.html)[0]?.action.split('/').at(-1) ?? 'other'));

describe('Keycloak TOTP import: authenticators enrolled in a real Keycloak 26 keep working', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  let config: oidc.Configuration;
  // The second-factor clock: codes are computed for this instant, never for the wall clock.
  let now = new Date('2026-06-01T08:00:05Z');

  before(async () => {
    deploy = await deployment('keycloak_totp', { secondFactorClock: () => now });
    gatehouse = await deploy.start();
    const admin = await adminClient(gatehouse);
    token = (await oidc.clientCredentialsGrant(await relyingParty(deploy.issuer, admin.clientId, admin.secret), { scope: 'admin' })).access_token;
    const cast = await seed(gatehouse);
    config = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  /** Authorization request → password on the hosted page; returns what follows the password. */
  async function afterPassword(agent: UserAgent, username: string, password: string) {
    const request = await authorizationRequest(config, REDIRECT_URI);
    const login = asPage(await follow(agent, request.url.toString()));
    return { request, next: await submit(agent, login, 'login', { login: username, password }) };
  }

  async function finish(agent: UserAgent, value: Page | URL, request: Awaited<ReturnType<typeof authorizationRequest>>) {
    const step = formAction(value) === 'confirm' ? await submit(agent, asPage(value), 'confirm', {}) : value;
    if (!(step instanceof URL)) throw new Error(`expected the callback, got ${formAction(step)}`);
    return (await oidc.authorizationCodeGrant(config, step, request.checks)).claims()!;
  }

  it('the fixture holds Keycloak OTP credentials of each algorithm, and one counter-based (HOTP)', () => {
    const otp = (REALM_EXPORT.users as unknown as Array<{ username: string; credentials: Array<{ type: string; secretData: string; credentialData: string }> }>).map((user) => {
      const credential = user.credentials.find((item) => item.type === 'otp')!;
      return { username: user.username, secret: (JSON.parse(credential.secretData) as { value: string }).value, data: JSON.parse(credential.credentialData) as Record<string, unknown> };
    });
    for (const user of ENROLLED) {
      expect(otp.find((item) => item.username === user.username)).to.deep.include({ secret: user.secret });
      expect(otp.find((item) => item.username === user.username)!.data).to.include({ subType: 'totp', algorithm: `Hmac${user.algorithm}`, digits: user.digits, period: user.period });
    }
    expect(otp.find((item) => item.username === 'ivy-hotp')!.data).to.include({ subType: 'hotp' });
  });

  it('a dry run reports the authenticators it would take over and writes none', async () => {
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak?dry_run=true', REALM_EXPORT);
    expect(status, JSON.stringify(body)).to.equal(200);
    expect(body.totp).to.deep.equal({ imported: ENROLLED.map((user) => user.username), unchanged: [], kept: [] });
    for (const user of REALM_EXPORT.users) expect((await gatehouse.services.factors.status(user.id)).enrolled, user.username).to.equal(false);
  });

  it('imports them sealed at rest, with Keycloak’s algorithm, digits and period; HOTP is reported, not imported', async () => {
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', REALM_EXPORT);
    expect(status, JSON.stringify(body)).to.equal(200);
    expect(body.totp.imported).to.have.members(ENROLLED.map((user) => user.username));
    const hotp = (body.unmapped as Array<{ kind: string; name: string; reason: string }>).filter((item) => item.name === 'ivy-hotp').map((item) => item.reason);
    expect(hotp.join(' ')).to.match(/hotp \(counter-based\) authenticator: not imported/);

    const users = await gatehouse.services.users.exportAll();
    const mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    try {
      const models = factorModels(mongo);
      for (const user of ENROLLED) {
        const id = REALM_EXPORT.users.find((item) => item.username === user.username)!.id;
        const stored = (await models.factors.findById(id).lean().exec())!;
        expect(stored.totp).to.include({ algorithm: user.algorithm, digits: user.digits, period: user.period });
        const raw = JSON.stringify(stored);
        expect(raw).to.not.include(user.secret);
        expect(raw).to.not.include(Secret.fromUTF8(user.secret).base32);
        expect(users.find((item) => item._id === id)?.secondFactor, user.username).to.equal(true);
      }
    } finally {
      await mongo.close();
    }
  });

  it('each user signs in with their Keycloak password and a code from the app they enrolled in Keycloak', async () => {
    for (const user of ENROLLED) {
      const agent = new UserAgent();
      const { request, next } = await afterPassword(agent, user.username, user.password);
      expect(formAction(next), user.username).to.equal('verify');
      // A code the same app would show under the default policy (SHA-1, 6 digits, 30 s) is refused when Keycloak's differs.
      if (user.algorithm !== 'SHA1') {
        const wrong = new TOTP({ secret: Secret.fromUTF8(user.secret) }).generate({ timestamp: now.getTime() });
        const refused = asPage(await submit(agent, asPage(next), 'verify', { code: wrong }));
        expect(formAction(refused), `${user.username}: a SHA-1 code`).to.equal('verify');
      }
      const code = app(user).generate({ timestamp: now.getTime() });
      expect(code).to.have.length(user.digits);
      const claims = await finish(agent, await submit(agent, asPage(next), 'verify', { code }), request);
      expect(claims.sub).to.equal(REALM_EXPORT.users.find((item) => item.username === user.username)!.id);
      expect(claims.amr, user.username).to.deep.equal(['pwd', 'otp', 'mfa']);
    }
  });

  it('counts steps in the app’s own period: a 60 s app’s code stays used for the whole minute', async () => {
    const gus = ENROLLED[1];
    const agent = new UserAgent();
    const { request, next } = await afterPassword(agent, gus.username, gus.password);
    // The previous test used this step's code: a replay.
    let page = asPage(await submit(agent, asPage(next), 'verify', { code: app(gus).generate({ timestamp: now.getTime() }) }));
    expect(formAction(page)).to.equal('verify');
    // 30 s later a 30 s app would be on a new step; this one is not.
    now = new Date(now.getTime() + 30_000);
    page = asPage(await submit(agent, page, 'verify', { code: app(gus).generate({ timestamp: now.getTime() }) }));
    expect(formAction(page)).to.equal('verify');
    now = new Date(now.getTime() + 60_000);
    const claims = await finish(agent, await submit(agent, page, 'verify', { code: app(gus).generate({ timestamp: now.getTime() }) }), request);
    expect(claims.amr).to.deep.equal(['pwd', 'otp', 'mfa']);
  });

  it('the HOTP user signs in with the password alone (nothing to ask for until they enrol an app)', async () => {
    const agent = new UserAgent();
    const { request, next } = await afterPassword(agent, 'ivy-hotp', 'Hotp password #9');
    expect((await finish(agent, next, request)).amr).to.deep.equal(['pwd']);
  });

  it('a re-import changes nothing: the authenticators are unchanged and still asked for', async () => {
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', REALM_EXPORT);
    expect(status).to.equal(200);
    expect(body.totp).to.deep.equal({ imported: [], unchanged: ENROLLED.map((user) => user.username), kept: [] });
    now = new Date(now.getTime() + 120_000);
    const fay = ENROLLED[0];
    const agent = new UserAgent();
    const { request, next } = await afterPassword(agent, fay.username, fay.password);
    expect(formAction(next)).to.equal('verify');
    const claims = await finish(agent, await submit(agent, asPage(next), 'verify', { code: app(fay).generate({ timestamp: now.getTime() }) }), request);
    expect(claims.amr).to.deep.equal(['pwd', 'otp', 'mfa']);
  });
});
