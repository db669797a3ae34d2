import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { startAccountLayer, type AccountLayer } from '../../src/accounts/setup.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { testConfig } from '../helpers/config.ts';
import { randomIp } from '../helpers/accounts.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

describe('account layer from settings (as server and CLI build it)', () => {
  const database = databaseForSuite('account_layer');
  let connection: Connection;
  let layer: AccountLayer;

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    const config = testConfig({
      MONGODB_URI: database.uri,
      GATEHOUSE_SECRET: randomSecret(),
      GATEHOUSE_ARGON2_MEMORY_KIB: '2048',
      GATEHOUSE_ARGON2_ITERATIONS: '1',
      GATEHOUSE_HASH_POOL_SIZE: '1',
      GATEHOUSE_PASSWORD_MIN_LENGTH: '10',
      GATEHOUSE_LOCKOUT_THRESHOLD: '2',
    });
    layer = await startAccountLayer({ config, mongo: connection, logger: createLogger('silent') });
  });
  after(async () => {
    await layer.close();
    await connection.close();
  });

  it('applies the configured hashing parameters, password policy and lockout threshold', async () => {
    await layer.accounts.createUser({ username: 'short', password: '123456789' }).then(
      () => expect.fail('a 9-character password passed a 10-character minimum'),
      (error: Error) => expect(error.name).to.equal('PasswordPolicyError'),
    );
    await layer.accounts.createUser({ username: 'judy', password: 'judy-password' });
    const stored = await connection.db!.collection('users').findOne({ usernameKey: 'judy' });
    expect(stored?.passwordHash).to.match(/^\$argon2id\$v=19\$m=2048,t=1,p=1\$/);
    const ip = randomIp();
    await layer.accounts.authenticate('judy', 'wrong', ip);
    await layer.accounts.authenticate('judy', 'wrong', ip);
    expect((await layer.accounts.authenticate('judy', 'judy-password', ip)).ok).to.equal(false);
    expect(await layer.accounts.listLockouts()).to.have.length(1);
  });

  it('lets a one-shot process exit even if it never closes the hashing pool', () => {
    const hashPool = fileURLToPath(new URL('../../src/accounts/hash-pool.ts', import.meta.url));
    const script = `import { createPasswordHasher } from ${JSON.stringify(hashPool)};
      const h = createPasswordHasher({ params: { memoryKiB: 1024, iterations: 1, parallelism: 1 }, size: 2, queueLimit: 1 });
      console.log((await h.hash('password')).slice(0, 9));`;
    const file = join(mkdtempSync(join(tmpdir(), 'gh-hash-')), 'one-shot.mjs');
    writeFileSync(file, script);
    const run = spawnSync(process.execPath, [file], { timeout: 15_000, encoding: 'utf8' });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout.trim()).to.equal('$argon2id');
  });
});
