import { readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import type { RunningGatehouse } from '../../src/server.ts';
import { enrolmentKeeper } from '../../src/mfa/enrolment.ts';
import { totpCode } from '../../src/mfa/totp.ts';
import { clientCredentials } from '../helpers/admin.ts';
import { UserAgent, signIn } from '../helpers/browserless.ts';
import { startInstance } from '../helpers/instance.ts';
import { runCli } from '../helpers/process.ts';
import { freePort } from '../helpers/redis-server.ts';
import { databasesForSuite, dropDatabase, randomSecret } from '../helpers/stores.ts';

const API = 'https://inventory.example.com';
const FAST = { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1', GATEHOUSE_HASH_POOL_SIZE: '1' };

describe('gatehouse CLI for operators (in-process, real stores)', function () {
  // Commands run in this process (test/helpers/process.ts runCli); the server and stores are real. Sized for a busy 2-core machine.
  this.timeout(120_000);
  const take = databasesForSuite();
  let sourceUri: string;
  let targetUri: string;
  const secret = randomSecret();
  let port: number;
  let issuer: string;
  const env = (mongodbUri: string, gatehouseSecret = secret) => ({ NODE_ENV: 'test', MONGODB_URI: mongodbUri, GATEHOUSE_SECRET: gatehouseSecret, GATEHOUSE_ISSUER: issuer, ...FAST });
  const start = (mongodbUri: string, gatehouseSecret = secret) => startInstance({ mongodbUri, secret: gatehouseSecret, issuer, settings: { PORT: String(port), ...FAST } });
  const exportFile = join(tmpdir(), `gatehouse-export-${randomBytes(4).toString('hex')}.json`);
  let clientId: string;
  let clientSecret: string;
  let rpId: string;
  let userId: string;

  before(async () => {
    sourceUri = take('cli_source');
    targetUri = take('cli_target');
    port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
  });

  async function signInWorks(gatehouse: RunningGatehouse, password: string): Promise<string> {
    const auth = new URL(`${gatehouse.url}/auth`);
    auth.search = new URLSearchParams({ client_id: rpId, response_type: 'code', redirect_uri: 'https://rp.example.com/cb', scope: 'openid' }).toString();
    const { callback } = await signIn(new UserAgent(), auth.toString(), 'https://rp.example.com/cb', { username: 'dana', password });
    return callback.searchParams.get('code') ?? `no code: ${callback}`;
  }

  it('apis create + clients create --api: the printed credentials get a client_credentials token', async () => {
    const gatehouse = await start(sourceUri);
    try {
      const api = await runCli(['apis', 'create', '--identifier', API, '--scope', 'stock:read', '--json'], env(sourceUri));
      expect(api.code, api.stderr).to.equal(0);
      const created = await runCli(['clients', 'create', '--name', 'Stock sync', '--type', 'confidential', '--grant-type', 'client_credentials', '--api', API, '--json'], env(sourceUri));
      expect(created.code, created.stderr).to.equal(0);
      const printed = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
      expect(Object.keys(printed).sort()).to.deep.equal(['client_id', 'client_secret']);
      ({ client_id: clientId, client_secret: clientSecret } = printed);
      const token = await clientCredentials(gatehouse.url, clientId, clientSecret, { scope: 'stock:read' });
      expect(token.status, JSON.stringify(token.body)).to.equal(200);
      expect(decodeJwt(token.body.access_token as string)).to.include({ aud: API, client_id: clientId });

      const pub = await runCli(['clients', 'create', '--name', 'SPA', '--type', 'public', '--redirect-uri', 'https://spa.example.com/cb', '--json'], env(sourceUri));
      expect(Object.keys(JSON.parse(pub.stdout))).to.deep.equal(['client_id']);
      const rp = await runCli(['clients', 'create', '--name', 'RP', '--redirect-uri', 'https://rp.example.com/cb', '--post-logout-redirect-uri', 'https://rp.example.com/', '--scope', 'openid profile', '--first-party', '--json'], env(sourceUri));
      rpId = (JSON.parse(rp.stdout) as { client_id: string }).client_id;

      const user = await runCli(['users', 'create', '--username', 'dana', '--email', 'dana@example.com', '--role', 'ops', '--password-stdin', '--json'], env(sourceUri), 'dana password 1\n');
      expect(user.code, user.stderr).to.equal(0);
      const printedUser = JSON.parse(user.stdout) as { id: string; username: string };
      expect(printedUser.username).to.equal('dana');
      userId = printedUser.id;
      expect(await signInWorks(gatehouse, 'dana password 1')).to.match(/^[\w-]+$/);
    } finally {
      await gatehouse.close();
    }
  });

  it('reports errors clearly with a non-zero exit', async () => {
    const duplicate = await runCli(['users', 'create', '--username', 'dana', '--password-stdin', '--json'], env(sourceUri), 'another password');
    expect(duplicate.code).to.equal(1);
    expect(duplicate.stderr).to.equal('gatehouse: --username: already in use\n');
    const noStdin = await runCli(['users', 'create', '--username', 'erin', '--json'], env(sourceUri));
    expect(noStdin.code).to.equal(2);
    expect(noStdin.stderr).to.include('--password-stdin');
    const badUri = await runCli(['clients', 'create', '--name', 'x', '--redirect-uri', 'nope', '--json'], env(sourceUri));
    expect(badUri.code).to.equal(2);
    expect(badUri.stderr).to.match(/^gatehouse: --redirect-uri 'nope': /);
    const unknown = await runCli(['clients', 'get', 'missing'], env(sourceUri));
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.include('client missing does not exist');
    const listed = await runCli(['users', 'list', '--json'], env(sourceUri));
    expect((JSON.parse(listed.stdout) as { total: number }).total).to.equal(1);
  });

  it('export → wipe → import: the same client and user still work', async () => {
    const exported = await runCli(['export', '--output', exportFile, '--unencrypted', '--json'], env(sourceUri));
    expect(exported.code, exported.stderr).to.equal(0);
    expect(statSync(exportFile).mode & 0o777).to.equal(0o600);
    const document = JSON.parse(readFileSync(exportFile, 'utf8')) as Record<string, unknown>;
    expect(document).to.include({ format: 'gatehouse-export', contains_password_hashes: true, contains_client_secrets: true });
    expect(String(document.warning)).to.include('password hashes');

    await dropDatabase(sourceUri);
    const imported = await runCli(['import', '--input', exportFile, '--json'], env(sourceUri));
    expect(imported.code, imported.stderr).to.equal(0);
    expect(JSON.parse(imported.stdout)).to.deep.include({ clients: { created: 3, updated: 0 }, users: { created: 1, updated: 0 } });
    const again = await runCli(['import', '--input', exportFile, '--json'], env(sourceUri));
    expect(JSON.parse(again.stdout)).to.deep.include({ clients: { created: 0, updated: 3 }, users: { created: 0, updated: 1 } });

    const gatehouse = await start(sourceUri);
    try {
      const token = await clientCredentials(gatehouse.url, clientId, clientSecret, { scope: 'stock:read' });
      expect(token.status, JSON.stringify(token.body)).to.equal(200);
      expect(await signInWorks(gatehouse, 'dana password 1')).to.match(/^[\w-]+$/);
    } finally {
      await gatehouse.close();
    }
  });

  it('imports into a deployment with a different GATEHOUSE_SECRET: same sub and client_id', async () => {
    const otherSecret = randomSecret();
    const imported = await runCli(['import', exportFile, '--json'], env(targetUri, otherSecret));
    expect(imported.code, imported.stderr).to.equal(0);
    const gatehouse = await start(targetUri, otherSecret);
    try {
      const token = await clientCredentials(gatehouse.url, clientId, clientSecret, { scope: 'stock:read' });
      expect(token.status, JSON.stringify(token.body)).to.equal(200);
      expect(decodeJwt(token.body.access_token as string).client_id).to.equal(clientId);
      const user = await gatehouse.services.accounts.findByLogin('dana');
      expect(user?.id).to.equal(userId);
      expect(await signInWorks(gatehouse, 'dana password 1')).to.match(/^[\w-]+$/);
    } finally {
      await gatehouse.close();
    }
  });

  it("an import over the deployment it came from keeps a user's second factor in force", async () => {
    const withApp = join(tmpdir(), `gatehouse-export-mfa-${randomBytes(4).toString('hex')}.json`);
    let gatehouse = await start(sourceUri);
    try {
      const { secret: totpSecret } = await gatehouse.services.factors.beginTotp(userId);
      const confirmed = await gatehouse.services.factors.confirmTotp(userId, totpCode(totpSecret, new Date()), '198.51.100.9');
      expect(confirmed.ok).to.equal(true);
      // What every enrolment path does next (src/mfa/enrolment.ts): the sign-in reads this flag.
      await enrolmentKeeper({ factors: gatehouse.services.factors, passkeys: gatehouse.services.passkeys, accounts: gatehouse.services.accounts })(userId);
      await signInWorks(gatehouse, 'dana password 1').then(
        (code) => expect.fail(`signed in without the second factor: ${code}`),
        (error: Error) => expect(error.message).to.match(/no sign-in or consent form at .*\/interaction\//),
      );
    } finally {
      await gatehouse.close();
    }
    try {
      expect((await runCli(['export', '--output', withApp, '--unencrypted', '--json'], env(sourceUri))).code).to.equal(0);
      // A restore of that backup (the server stopped, so no cached profile hides what was written).
      const imported = await runCli(['import', '--input', withApp, '--json'], env(sourceUri));
      expect(imported.code, imported.stderr).to.equal(0);
      gatehouse = await start(sourceUri);
      try {
        expect((await gatehouse.services.accounts.findById(userId))?.secondFactor, 'the second-factor flag after the import').to.equal(true);
        await signInWorks(gatehouse, 'dana password 1').then(
          (code) => expect.fail(`signed in without the second factor after the import: ${code}`),
          (error: Error) => expect(error.message).to.match(/no sign-in or consent form at .*\/interaction\//),
        );
      } finally {
        await gatehouse.close();
      }
    } finally {
      rmSync(withApp, { force: true });
      const reset = await runCli(['users', 'mfa', 'dana', '--reset', '--json'], env(sourceUri));
      expect(reset.code, reset.stderr).to.equal(0);
    }
  });

  it('roles, users disable/enable/unlock, set-password, rotate-secret, grants revoke, delete', async () => {
    const e = env(sourceUri);
    expect((await runCli(['roles', 'create', 'auditor', '--json'], e)).code).to.equal(0);
    const assigned = await runCli(['roles', 'assign', 'auditor', '--user', 'dana', '--json'], e);
    expect(assigned.code, assigned.stderr).to.equal(0);
    const roles = JSON.parse((await runCli(['roles', 'list', '--json'], e)).stdout) as Array<{ name: string }>;
    expect(roles.map((r) => r.name)).to.include.members(['admin', 'auditor', 'ops']);
    expect((await runCli(['roles', 'remove', 'auditor', '--user', 'dana', '--json'], e)).code).to.equal(0);
    expect((await runCli(['users', 'set-password', 'dana', '--password-stdin', '--json'], e, 'dana password 2')).code).to.equal(0);
    for (const [change, done] of [['disable', 'disabled'], ['enable', 'enabled'], ['unlock', 'unlocked']] as const) {
      const result = await runCli(['users', change, 'dana', '--json'], e);
      expect(result.code, result.stderr).to.equal(0);
      expect(JSON.parse(result.stdout), change).to.include({ [done]: true });
    }
    const rotated = await runCli(['clients', 'rotate-secret', clientId, '--json'], e);
    expect((JSON.parse(rotated.stdout) as { client_secret: string }).client_secret).to.be.a('string').and.not.equal(clientSecret);
    const revoked = await runCli(['grants', 'revoke', '--user', 'dana', '--json'], e);
    expect(revoked.code, revoked.stderr).to.equal(0);
    expect((await runCli(['clients', 'update', clientId, '--name', 'Renamed', '--json'], e)).code).to.equal(0);
    const got = JSON.parse((await runCli(['clients', 'get', clientId, '--json'], e)).stdout) as { name: string };
    expect(got.name).to.equal('Renamed');
    expect((await runCli(['clients', 'delete', clientId, '--json'], e)).code).to.equal(0);
    expect((await runCli(['clients', 'list', '--json'], e)).stdout).not.to.include(clientId);
  });
});
