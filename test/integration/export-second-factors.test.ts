import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { Secret, TOTP } from 'otpauth';
import { enrolmentKeeper } from '../../src/mfa/enrolment.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { asPage, followTo, formsOf, submitForm, UserAgent, type AgentPage } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';
import { softAuthenticator } from '../helpers/soft-authenticator.ts';
import { emptyDatabase } from '../helpers/stores.ts';

type Page = AgentPage;
const follow = (agent: UserAgent, url: string) => followTo(agent, url, REDIRECT_URI);
const submit = (agent: UserAgent, page: Page, action: string, fields: Record<string, string> = {}) => submitForm(agent, page, action, fields, REDIRECT_URI);
const kind = (value: Page | URL) => (value instanceof URL ? 'callback' : (formsOf(value.html)[0]?.action.split('/').at(-1) ?? (value.html.includes('recovery-codes') ? 'codes' : 'other')));
const continueOf = (page: Page) => new URL(page.html.match(/class="button primary" href="([^"]+)"/)![1]!.replace(/&amp;/g, '&'), page.url).toString();

interface ExportFile {
  contains_totp_secrets: boolean;
  warning: string;
  second_factors: Array<{ userId: string; totp: { secret: string } | null; recoveryCodes: string[] }>;
  passkeys: Array<{ id: string; userId: string; counter: number; name: string }>;
  consents: Array<{ userId: string; clientId: string; scopes: string[] }>;
}

/**
 * `gatehouse export` → `gatehouse import` into another, empty deployment keeps what users need to
 * sign in as before: their authenticator app (its secret opened for the file, sealed again under
 * the target's GATEHOUSE_SECRET), passkeys (on the same host), recovery codes (where the same
 * GATEHOUSE_SECRET can check them) and remembered consents. Codes are computed with otpauth, as an
 * app does, at the second-factor clock's instant.
 */
describe('export → import into another deployment: second factors and consents come along (real stores, CLI)', function () {
  this.timeout(180_000);
  let now = new Date('2026-06-01T08:00:05Z');
  const tick = (seconds: number) => (now = new Date(now.getTime() + seconds * 1000));
  const options = { host: 'localhost', secondFactorClock: () => now };
  const file = join(tmpdir(), `gatehouse-export-factors-${randomBytes(4).toString('hex')}.json`);
  let source: Deployment;
  let target: Deployment;
  let cast: Seeded;
  let app: TOTP;
  let recoveryCodes: string[];
  const bob = { id: '', username: `bob${randomBytes(3).toString('hex')}`, credentialId: Buffer.from(`bob-key-${randomBytes(4).toString('hex')}`).toString('base64url') };
  let bobKey: ReturnType<typeof softAuthenticator>;
  const cliEnv = (deploy: Deployment) => ({ NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, ...(deploy.redisUrl ? { REDIS_URL: deploy.redisUrl } : {}), GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings });

  before(async () => {
    source = await deployment('export_factors_source', options);
    target = await deployment('export_factors_target', options);
    expect(new URL(target.issuer).hostname).to.equal(new URL(source.issuer).hostname);
    expect(target.secret).to.not.equal(source.secret);
  });
  after(async () => {
    rmSync(file, { force: true });
    await source.drop();
    await target.drop();
  });

  /** Authorization request at the deployment → the password on its sign-in page; what follows the password. */
  async function afterPassword(deploy: Deployment, agent: UserAgent) {
    const config = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const request = await authorizationRequest(config, REDIRECT_URI, { scope: 'openid profile' });
    const login = asPage(await follow(agent, request.url.toString()));
    return { config, request, next: await submit(agent, login, 'login', { login: cast.user.username, password: PASSWORD }) };
  }

  it('the source: alice allows the web app, then enrols an app (recovery codes follow); bob has a passkey', async () => {
    const gatehouse = await source.start();
    try {
      cast = await seed(gatehouse);
      const agent = new UserAgent();
      const { config, request, next } = await afterPassword(source, agent);
      expect(kind(next), 'the consent page').to.equal('confirm');
      const callback = await submit(agent, asPage(next), 'confirm');
      expect((await oidc.authorizationCodeGrant(config, callback as URL, request.checks)).claims()!.sub).to.equal(cast.user.id);
      expect((await gatehouse.services.consents.find(cast.user.id, cast.web.clientId))?.scopes).to.include.members(['openid', 'profile']);

      const { factors, accounts } = gatehouse.services;
      const { secret } = await factors.beginTotp(cast.user.id);
      app = new TOTP({ secret: Secret.fromBase32(secret) });
      const confirmed = await factors.confirmTotp(cast.user.id, app.generate({ timestamp: now.getTime() }), '198.51.100.20');
      if (!confirmed.ok) expect.fail('the app did not confirm');
      recoveryCodes = confirmed.recoveryCodes;

      bob.id = (await accounts.createUser({ username: bob.username, password: PASSWORD })).id;
      bobKey = softAuthenticator(source.issuer);
      const mongo = await connectMongo({ uri: source.mongodbUri, timeoutMs: 5000 });
      try {
        // As a registration stores it (src/mfa/passkeys.ts); the authenticator's counter is at 5.
        await mongo.collection('mfa_passkeys').insertOne({ _id: bob.credentialId as never, userId: bob.id, publicKey: bobKey.publicKey, counter: 5, transports: ['usb'], name: "Bob's key", deviceType: 'singleDevice', createdAt: new Date('2026-05-01T00:00:00Z'), lastUsedAt: null });
      } finally {
        await mongo.close();
      }
      const keep = enrolmentKeeper(gatehouse.services);
      expect([await keep(cast.user.id), await keep(bob.id)]).to.deep.equal([true, true]);
    } finally {
      await gatehouse.close();
    }
  });

  it('the file carries the app (its secret in the clear, as client secrets are: said in its header), recovery-code hashes, the passkey and the consent', async () => {
    const exported = await runCli(['export', '--output', file, '--unencrypted', '--json'], cliEnv(source));
    expect(exported.code, exported.stderr).to.equal(0);
    const text = readFileSync(file, 'utf8');
    const document = JSON.parse(text) as ExportFile;
    expect(document.contains_totp_secrets).to.equal(true);
    expect(document.warning).to.include('authenticator-app (TOTP) secrets');
    const alice = document.second_factors.find((one) => one.userId === cast.user.id)!;
    expect(alice.totp?.secret).to.equal(app.secret.base32);
    expect(alice.recoveryCodes).to.have.length(10);
    for (const code of recoveryCodes) expect(text, 'a recovery code itself').to.not.include(code);
    expect(document.passkeys).to.deep.include.members([{ ...document.passkeys.find((one) => one.id === bob.credentialId)!, userId: bob.id, counter: 5, name: "Bob's key" }]);
    expect(document.consents.find((one) => one.userId === cast.user.id && one.clientId === cast.web.clientId)?.scopes).to.include.members(['openid', 'profile']);
  });

  it('imported into an empty deployment with another GATEHOUSE_SECRET: app, passkey and consent carried; recovery codes reported as not carried', async () => {
    const imported = await runCli(['import', '--input', file, '--json'], cliEnv(target));
    expect(imported.code, imported.stderr).to.equal(0);
    const summary = JSON.parse(imported.stdout) as Record<string, unknown>;
    expect(summary).to.deep.include({
      users: { created: 2, updated: 0 },
      second_factors: { totp: { imported: 1, unchanged: 0, kept: 0 }, recovery_codes: { users: 0, not_carried: 1 }, passkeys: { created: 1, updated: 0, conflicts: 0, not_carried: 0 } },
      consents: 1,
    });
    const mongo = await connectMongo({ uri: target.mongodbUri, timeoutMs: 5000 });
    try {
      const stored = JSON.stringify(await mongo.collection('mfa_factors').findOne({ _id: cast.user.id as never }));
      expect(stored, 'sealed at rest, never the base32 text').to.match(/"sealed":"v1\./).and.not.include(app.secret.base32);
    } finally {
      await mongo.close();
    }
  });

  it('alice signs in there with her password and a code from her app, and is not asked to consent again', async () => {
    const gatehouse = await target.start();
    try {
      expect((await gatehouse.services.accounts.findById(cast.user.id))?.secondFactor).to.equal(true);
      const agent = new UserAgent();
      const { config, request, next } = await afterPassword(target, agent);
      expect(kind(next), 'asked for the second factor').to.equal('verify');
      // The code accepted at enrolment on the source: a code's step is used once, there and here.
      const replayed = asPage(await submit(agent, asPage(next), 'verify', { code: app.generate({ timestamp: now.getTime() }) }));
      expect(kind(replayed), 'the enrolment code again').to.equal('verify');
      tick(30);
      const callback = await submit(agent, replayed, 'verify', { code: app.generate({ timestamp: now.getTime() }) });
      expect(kind(callback), 'no consent page: the consent came along').to.equal('callback');
      const claims = (await oidc.authorizationCodeGrant(config, callback as URL, request.checks)).claims()!;
      expect(claims).to.include({ sub: cast.user.id });
      expect(claims.amr).to.deep.equal(['pwd', 'otp', 'mfa']);
    } finally {
      await gatehouse.close();
    }
  });

  it("bob's passkey works there, its sign counter carried (an old counter is refused)", async () => {
    const gatehouse = await target.start();
    try {
      expect((await gatehouse.services.accounts.findById(bob.id))?.secondFactor).to.equal(true);
      const challenge = Buffer.from('a challenge bound to an interaction').toString('base64url');
      const { passkeys } = gatehouse.services;
      expect((await passkeys.authenticate(bobKey.assert(bob.credentialId, bob.id, challenge, 5, target.issuer), challenge, bob.id)).ok, 'counter 5 again').to.equal(false);
      expect(await passkeys.authenticate(bobKey.assert(bob.credentialId, bob.id, challenge, 6, target.issuer), challenge, bob.id)).to.include({ ok: true, userId: bob.id });
      expect((await passkeys.list(bob.id)).map((one) => one.name)).to.deep.equal(["Bob's key"]);
    } finally {
      await gatehouse.close();
    }
  });

  it('a second import there changes nothing: the app unchanged, the passkey counter not moved back', async () => {
    const again = await runCli(['import', '--input', file, '--json'], cliEnv(target));
    expect(again.code, again.stderr).to.equal(0);
    expect(JSON.parse(again.stdout)).to.deep.include({
      users: { created: 0, updated: 2 },
      second_factors: { totp: { imported: 0, unchanged: 1, kept: 0 }, recovery_codes: { users: 0, not_carried: 1 }, passkeys: { created: 0, updated: 1, conflicts: 0, not_carried: 0 } },
    });
    const gatehouse = await target.start();
    try {
      const challenge = Buffer.from('another challenge').toString('base64url');
      expect((await gatehouse.services.passkeys.authenticate(bobKey.assert(bob.credentialId, bob.id, challenge, 6, target.issuer), challenge, bob.id)).ok, 'counter 6, used above').to.equal(false);
      expect((await gatehouse.services.accounts.findById(cast.user.id))?.secondFactor).to.equal(true);
    } finally {
      await gatehouse.close();
    }
  });

  it('restored into an emptied deployment with the same GATEHOUSE_SECRET: alice signs in with a recovery code', async () => {
    await emptyDatabase(source.mongodbUri);
    const imported = await runCli(['import', '--input', file, '--json'], cliEnv(source));
    expect(imported.code, imported.stderr).to.equal(0);
    expect(JSON.parse(imported.stdout)).to.deep.include({ second_factors: { totp: { imported: 1, unchanged: 0, kept: 0 }, recovery_codes: { users: 1, not_carried: 0 }, passkeys: { created: 1, updated: 0, conflicts: 0, not_carried: 0 } } });
    const gatehouse = await source.start();
    try {
      const agent = new UserAgent();
      const { config, request, next } = await afterPassword(source, agent);
      expect(kind(next)).to.equal('verify');
      const used = asPage(await submit(agent, asPage(next), 'verify', { code: recoveryCodes[0]! }));
      expect(used.html).to.contain('Recovery codes left: 9');
      const callback = await follow(agent, continueOf(used));
      expect(kind(callback), 'no consent page').to.equal('callback');
      const claims = (await oidc.authorizationCodeGrant(config, callback as URL, request.checks)).claims()!;
      expect(claims).to.include({ sub: cast.user.id });
      expect(claims.amr).to.include('mfa');
    } finally {
      await gatehouse.close();
    }
  });
});
