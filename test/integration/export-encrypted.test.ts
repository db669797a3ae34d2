import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { Secret, TOTP } from 'otpauth';
import { connectMongo } from '../../src/storage/mongo.ts';
import { DECRYPTED_EXPORT_WARNING, EXPORT_WARNING } from '../../src/transfer/export-file.ts';
import { isSealedExport, openSealedExport } from '../../src/transfer/sealed-export.ts';
import { asPage, followTo, formsOf, submitForm, UserAgent, type AgentPage } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { runCli, spawnCli, type Exit } from '../helpers/process.ts';

const follow = (agent: UserAgent, url: string) => followTo(agent, url, REDIRECT_URI);
const submit = (agent: UserAgent, page: AgentPage, action: string, fields: Record<string, string> = {}) => submitForm(agent, page, action, fields, REDIRECT_URI);
const kind = (value: AgentPage | URL) => (value instanceof URL ? 'callback' : (formsOf(value.html)[0]?.action.split('/').at(-1) ?? 'other'));

/**
 * `gatehouse export --passphrase-…` → `gatehouse import --passphrase-…` into another deployment
 * (another GATEHOUSE_SECRET): the file holds none of the secrets readably, and after the import
 * the web app's client secret, alice's password and her authenticator app work there. A wrong
 * passphrase or a changed file stops the import before anything is written. Real stores; the
 * CLI in this process (runCli) and as its own process (spawnCli) for standard input.
 */
describe('encrypted export → import into another deployment (real stores, CLI)', function () {
  this.timeout(240_000);
  let now = new Date('2026-06-01T08:00:05Z');
  const tick = (seconds: number) => (now = new Date(now.getTime() + seconds * 1000));
  const options = { secondFactorClock: () => now };
  const dir = tmpdir();
  const tag = randomBytes(4).toString('hex');
  const file = join(dir, `gatehouse-export-encrypted-${tag}.json`);
  const clear = join(dir, `gatehouse-export-clear-${tag}.json`);
  const passFile = join(dir, `gatehouse-export-${tag}.pass`);
  // Distinctive, so that a search of every output and store for it cannot match by accident.
  const passphrase = `passphrase-${randomBytes(12).toString('hex')}`;
  let source: Deployment;
  let target: Deployment;
  let cast: Seeded;
  let app: TOTP;
  let passwordHash: string;
  const cliEnv = (deploy: Deployment) => ({ NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, ...(deploy.redisUrl ? { REDIS_URL: deploy.redisUrl } : {}), GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings });
  const outputs: Exit[] = [];
  const cli = async (args: string[], deploy: Deployment, stdin?: string) => {
    const exit = await runCli(args, cliEnv(deploy), stdin);
    outputs.push(exit);
    return exit;
  };

  /** Every document of a deployment's database, as JSON: where a passphrase must never be. */
  async function everythingIn(deploy: Deployment): Promise<string> {
    const mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    try {
      const collections = await mongo.listCollections();
      const all = await Promise.all(collections.map(async ({ name }) => JSON.stringify(await mongo.collection(name).find().toArray())));
      return all.join('\n');
    } finally {
      await mongo.close();
    }
  }

  async function auditDetails(deploy: Deployment, type: string): Promise<Record<string, unknown> | undefined> {
    const mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    try {
      return ((await mongo.collection('audit_events').findOne({ type })) as { details?: Record<string, unknown> } | null)?.details;
    } finally {
      await mongo.close();
    }
  }

  async function usersIn(deploy: Deployment): Promise<number> {
    const mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    try {
      return await mongo.collection('users').countDocuments();
    } finally {
      await mongo.close();
    }
  }

  before(async () => {
    source = await deployment('export_encrypted_source', options);
    target = await deployment('export_encrypted_target', options);
    writeFileSync(passFile, `${passphrase}\n`, { mode: 0o600 });
    const gatehouse = await source.start();
    try {
      cast = await seed(gatehouse);
      const { factors } = gatehouse.services;
      const { secret } = await factors.beginTotp(cast.user.id);
      app = new TOTP({ secret: Secret.fromBase32(secret) });
      const confirmed = await factors.confirmTotp(cast.user.id, app.generate({ timestamp: now.getTime() }), '198.51.100.20');
      if (!confirmed.ok) expect.fail('the app did not confirm');
    } finally {
      await gatehouse.close();
    }
    const mongo = await connectMongo({ uri: source.mongodbUri, timeoutMs: 5000 });
    try {
      passwordHash = ((await mongo.collection('users').findOne({ _id: cast.user.id as never })) as { passwordHash: string } | null)!.passwordHash;
    } finally {
      await mongo.close();
    }
  });
  after(async () => {
    for (const path of [file, clear, passFile]) rmSync(path, { force: true });
    await source.drop();
    await target.drop();
  });

  it('an export that says neither a passphrase nor --unencrypted is refused, naming both, and writes nothing', async () => {
    const exit = await cli(['export', '--output', file, '--json'], source);
    expect(exit.code).to.equal(2);
    expect(exit.stderr).to.include('--passphrase-file FILE or --passphrase-stdin').and.include('--unencrypted');
    expect(existsSync(file)).to.equal(false);
  });

  it('a passphrase as an argument is no option (it would show in ps), and the refusal does not repeat it', async () => {
    const exit = await cli(['export', '--output', file, `--passphrase=${passphrase}`], source);
    expect(exit.code).to.equal(2);
    expect(exit.stderr).to.include('unknown option --passphrase').and.not.include(passphrase);
    expect(existsSync(file)).to.equal(false);
  });

  it('a short passphrase is refused before anything is exported', async () => {
    const exit = await cli(['export', '--output', file, '--passphrase-stdin'], source, 'short\n');
    expect(exit.code).to.equal(2);
    expect(exit.stderr).to.include('shorter than 12 characters');
    expect(existsSync(file)).to.equal(false);
  });

  it('--passphrase-file: the file (mode 0600) holds no secret, hash, name or the passphrase readably; the audit event says encrypted', async () => {
    const exit = await cli(['export', '--output', file, '--passphrase-file', passFile, '--json'], source);
    expect(exit.code, exit.stderr).to.equal(0);
    expect(JSON.parse(exit.stdout)).to.include({ file, encrypted: true, users: 1 });
    expect(exit.stderr, 'no warning: nothing in the clear').to.equal('');
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    const text = readFileSync(file, 'utf8');
    expect(isSealedExport(JSON.parse(text))).to.equal(true);
    for (const secret of [cast.web.secret, cast.service.secret, app.secret.base32, passwordHash, cast.user.username, passphrase]) expect(text).to.not.include(secret);
    expect(await auditDetails(source, 'export.created')).to.include({ encrypted: true, users: 1 });
    expect(await everythingIn(source)).to.not.include(passphrase);
  });

  it('decrypted, its header says what that text holds: secrets in the clear, which the encrypted file does not show', async () => {
    const opened = JSON.parse(await openSealedExport(JSON.parse(readFileSync(file, 'utf8')), passphrase)) as Record<string, unknown>;
    expect(opened).to.include({ format: 'gatehouse-export', warning: DECRYPTED_EXPORT_WARNING, contains_client_secrets: true });
    expect(DECRYPTED_EXPORT_WARNING).to.match(/^Decrypted from a passphrase-encrypted export: .* in the clear, as the encrypted file does not\./);
  });

  it('import without the passphrase is refused, naming both ways to give it', async () => {
    const exit = await cli(['import', '--input', file], target);
    expect(exit.code).to.equal(2);
    expect(exit.stderr).to.include('is an encrypted export: give its passphrase with --passphrase-file FILE or --passphrase-stdin');
    expect(await usersIn(target)).to.equal(0);
  });

  it('a wrong passphrase is named, and nothing is imported (exit 1)', async () => {
    const exit = await cli(['import', '--input', file, '--passphrase-stdin'], target, 'not the passphrase at all\n');
    expect(exit.code).to.equal(1);
    expect(exit.stderr).to.include(`${file}: the passphrase does not open it`).and.include('nothing was imported');
    expect(await usersIn(target)).to.equal(0);
  });

  it('a file changed after it was written is named as such, and nothing is imported (exit 1)', async () => {
    const sealed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    const at = Math.floor(sealed.ciphertext!.length / 2);
    const changed = { ...sealed, ciphertext: `${sealed.ciphertext!.slice(0, at)}${sealed.ciphertext![at] === 'A' ? 'B' : 'A'}${sealed.ciphertext!.slice(at + 1)}` };
    const tampered = join(dir, `gatehouse-export-tampered-${tag}.json`);
    writeFileSync(tampered, JSON.stringify(changed), { mode: 0o600 });
    try {
      const exit = await cli(['import', '--input', tampered, '--passphrase-file', passFile], target);
      expect(exit.code).to.equal(1);
      expect(exit.stderr).to.include('changed after it was written').and.include('nothing was imported');
      expect(await usersIn(target)).to.equal(0);
    } finally {
      rmSync(tampered, { force: true });
    }
  });

  it('a file cut short is refused naming the line and column where it ends, and nothing is imported (exit 2)', async () => {
    const whole = readFileSync(file, 'utf8');
    const cut = join(dir, `gatehouse-export-cut-${tag}.json`);
    writeFileSync(cut, whole.slice(0, Math.floor(whole.length / 2)), { mode: 0o600 });
    try {
      for (const args of [['import', '--input', cut, '--passphrase-file', passFile], ['import', '--input', cut, '--dry-run']]) {
        const exit = await cli(args, target);
        expect(exit.code, args.join(' ')).to.equal(2);
        expect(exit.stderr).to.include(cut).and.match(/line 1, column \d+/).and.include('cut short');
      }
      expect(await usersIn(target)).to.equal(0);
    } finally {
      rmSync(cut, { force: true });
    }
  });

  it('--dry-run checks passphrase, integrity and contents, and writes nothing', async () => {
    const checked = await cli(['import', '--input', file, '--passphrase-file', passFile, '--dry-run', '--json'], target);
    expect(checked.code, checked.stderr).to.equal(0);
    expect(JSON.parse(checked.stdout)).to.include({ file, dry_run: true, encrypted: true, users: 1, clients: 3, second_factors: 1 });
    expect(await usersIn(target)).to.equal(0);
    const wrong = await cli(['import', '--input', file, '--passphrase-stdin', '--dry-run'], target, 'not the passphrase at all\n');
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.include('the passphrase does not open it');
  });

  it('--passphrase-stdin, the CLI as its own process: imported; no output holds the passphrase', async () => {
    const exit = await spawnCli(['import', '--input', file, '--passphrase-stdin', '--json'], cliEnv(target), `${passphrase}\n`);
    outputs.push(exit);
    expect(exit.code, exit.stderr).to.equal(0);
    expect(JSON.parse(exit.stdout)).to.deep.include({ users: { created: 1, updated: 0 }, consents: 0 });
    expect(JSON.parse(exit.stdout).second_factors.totp).to.deep.equal({ imported: 1, unchanged: 0, kept: 0 });
    expect(await auditDetails(target, 'import.applied')).to.include({ encrypted: true });
    expect(await everythingIn(target)).to.not.include(passphrase);
    for (const output of outputs) expect(`${output.stdout}${output.stderr}`).to.not.include(passphrase);
  });

  it('there, the web app signs alice in with her password and a code from her app (client secret, hash and TOTP secret carried)', async () => {
    const gatehouse = await target.start();
    try {
      const agent = new UserAgent();
      const config = await relyingParty(target.issuer, cast.web.clientId, cast.web.secret);
      const request = await authorizationRequest(config, REDIRECT_URI, { scope: 'openid' });
      const login = asPage(await follow(agent, request.url.toString()));
      const next = await submit(agent, login, 'login', { login: cast.user.username, password: PASSWORD });
      expect(kind(next), 'asked for the second factor').to.equal('verify');
      tick(30);
      let page = await submit(agent, asPage(next), 'verify', { code: app.generate({ timestamp: now.getTime() }) });
      if (kind(page) === 'confirm') page = await submit(agent, asPage(page), 'confirm');
      expect(kind(page)).to.equal('callback');
      const claims = (await oidc.authorizationCodeGrant(config, page as URL, request.checks)).claims()!;
      expect(claims).to.include({ sub: cast.user.id });
      expect(claims.amr).to.deep.equal(['pwd', 'otp', 'mfa']);
      const service = await relyingParty(target.issuer, cast.service.clientId, cast.service.secret);
      expect((await oidc.clientCredentialsGrant(service)).access_token).to.be.a('string');
    } finally {
      await gatehouse.close();
    }
  });

  it('--unencrypted still writes the clear file, with a warning on standard error; it imports without a passphrase, and not with one', async () => {
    const exit = await cli(['export', '--output', clear, '--unencrypted', '--json'], source);
    expect(exit.code, exit.stderr).to.equal(0);
    expect(JSON.parse(exit.stdout)).to.include({ encrypted: false });
    expect(exit.stderr).to.include('warning:').and.include('in the clear (--unencrypted)');
    expect(statSync(clear).mode & 0o777).to.equal(0o600);
    expect(JSON.parse(readFileSync(clear, 'utf8'))).to.include({ format: 'gatehouse-export', warning: EXPORT_WARNING, contains_client_secrets: true });
    expect(EXPORT_WARNING).to.match(/^This file holds .* in the clear\./);

    const vouched = await cli(['import', '--input', clear, '--passphrase-file', passFile], target);
    expect(vouched.code).to.equal(2);
    expect(vouched.stderr).to.include('is not encrypted, so nothing vouches');
    const checked = await cli(['import', '--input', clear, '--dry-run', '--json'], target);
    expect(JSON.parse(checked.stdout)).to.include({ dry_run: true, encrypted: false, users: 1 });
    const imported = await cli(['import', '--input', clear, '--json'], target);
    expect(imported.code, imported.stderr).to.equal(0);
    expect(JSON.parse(imported.stdout)).to.deep.include({ users: { created: 0, updated: 1 } });
  });

  it('--dry-run of a file the import would refuse: exit 2 naming the field, nothing written', async () => {
    const broken = join(dir, `gatehouse-export-broken-${tag}.json`);
    const document = JSON.parse(readFileSync(clear, 'utf8')) as { users: Array<Record<string, unknown>> };
    document.users[0]!.passwordHash = 42;
    writeFileSync(broken, JSON.stringify(document), { mode: 0o600 });
    try {
      const exit = await cli(['import', '--input', broken, '--dry-run'], target);
      expect(exit.code).to.equal(2);
      expect(exit.stderr).to.include('users.0.passwordHash');
    } finally {
      rmSync(broken, { force: true });
    }
  });

  it('a passphrase file others can read is used, with a warning', async () => {
    chmodSync(passFile, 0o644);
    const exit = await cli(['import', '--input', file, '--passphrase-file', passFile, '--json'], target);
    expect(exit.code, exit.stderr).to.equal(0);
    expect(exit.stderr).to.include('can be read by other users (mode 644)').and.not.include(passphrase);
  });
});
