import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { createSecretBox } from '../../src/crypto/secret-box.ts';
import { createKeyStore, KeyStoreError, providerJwks, cookieKeyList } from '../../src/keys/key-store.ts';
import { keySetModel } from '../../src/keys/model.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { startInstance } from '../helpers/instance.ts';
import { runMain } from '../helpers/process.ts';
import { databasesForSuite, randomSecret } from '../helpers/stores.ts';

async function publishedJwks(instance: RunningGatehouse): Promise<unknown> {
  const response = await fetch(`${instance.url}/jwks`);
  expect(response.status).to.equal(200);
  return response.json();
}

/** The database holds one key set, with the signing keys `kids` (a refused start made no second one). */
async function expectOnlyKeySet(mongodbUri: string, kids: string[]): Promise<void> {
  const connection = await connectMongo({ uri: mongodbUri, timeoutMs: 5000 });
  try {
    const docs = await connection.collection('keyset').find().toArray();
    expect(docs).to.have.length(1);
    expect((docs[0]!.signingKeys as Array<{ kid: string }>).map((key) => key.kid)).to.deep.equal(kids);
  } finally {
    await connection.close();
  }
}

describe('key store (real MongoDB-wire server)', function () {
  // Several instance starts (key generation, argon2 key derivation) and one production process:
  // 29 s of a 30 s default at load 40.
  this.timeout(120_000);
  const database = databasesForSuite();

  it('gives two fresh databases different kids', async () => {
    const a = await startInstance({ mongodbUri: database('keys_a'), secret: randomSecret() });
    const b = await startInstance({ mongodbUri: database('keys_b'), secret: randomSecret() });
    try {
      const kidsA = a.keySet.signingKeys.map((key) => key.kid);
      const kidsB = b.keySet.signingKeys.map((key) => key.kid);
      expect(kidsA).to.have.length(2);
      expect(kidsA.filter((kid) => kidsB.includes(kid))).to.deep.equal([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('gives two instances starting at once on one empty database one key set and identical JWKS', async () => {
    // A new database, as on a first deployment: the instances also race to create its collections and indexes.
    const mongodbUri = database('keys_race', { fresh: true });
    const secret = randomSecret();
    const instances = await Promise.all(
      Array.from({ length: 4 }, () => startInstance({ mongodbUri, secret })),
    );
    try {
      const [first, ...others] = await Promise.all(instances.map(publishedJwks));
      for (const other of others) expect(other).to.deep.equal(first);
      const cookieKeys = instances.map((instance) => cookieKeyList(instance.keySet, new Date()));
      for (const keys of cookieKeys) expect(keys).to.deep.equal(cookieKeys[0]);
    } finally {
      await Promise.all(instances.map((instance) => instance.close()));
    }
    const connection = await connectMongo({ uri: mongodbUri, timeoutMs: 5000 });
    try {
      expect(await connection.collection('keyset').countDocuments()).to.equal(1);
    } finally {
      await connection.close();
    }
  });

  it('keeps the keys across a restart', async () => {
    const mongodbUri = database('keys_restart');
    const secret = randomSecret();
    const before = await startInstance({ mongodbUri, secret });
    const jwksBefore = await publishedJwks(before);
    await before.close();
    const after = await startInstance({ mongodbUri, secret });
    try {
      expect(await publishedJwks(after)).to.deep.equal(jwksBefore);
    } finally {
      await after.close();
    }
  });

  it('refuses to start with a wrong GATEHOUSE_SECRET and never makes a second key set', async () => {
    const mongodbUri = database('keys_wrong');
    const first = await startInstance({ mongodbUri, secret: randomSecret() });
    const kids = first.keySet.signingKeys.map((key) => key.kid);
    await first.close();

    let error: unknown;
    try {
      const wrong = await startInstance({ mongodbUri, secret: randomSecret() });
      await wrong.close();
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(KeyStoreError);
    expect((error as KeyStoreError).setting).to.equal('GATEHOUSE_SECRET');

    await expectOnlyKeySet(mongodbUri, kids);
  });

  it('the production process given a wrong GATEHOUSE_SECRET exits 78 naming it, without a stack or a second key set', async () => {
    // The stored keys come from the key store itself, not a whole instance: the time goes to the process.
    const mongodbUri = database('keys_wrong_process');
    const seeding = await connectMongo({ uri: mongodbUri, timeoutMs: 5000 });
    let kids: string[];
    try {
      const keySet = await createKeyStore({ model: keySetModel(seeding), box: createSecretBox(randomSecret(), 'keys') }).loadOrCreate();
      kids = keySet.signingKeys.map((key) => key.kid);
    } finally {
      await seeding.close();
    }

    const exit = await runMain({
      NODE_ENV: 'production',
      GATEHOUSE_ISSUER: 'http://localhost:3000',
      PORT: '0',
      MONGODB_URI: mongodbUri,
      GATEHOUSE_SECRET: randomSecret(),
    });
    expect(exit.code).to.equal(78);
    expect(exit.stderr).to.match(/^gatehouse: GATEHOUSE_SECRET: does not decrypt the stored signing keys/m);
    expect(exit.stderr).not.to.match(/\n\s+at /);

    await expectOnlyKeySet(mongodbUri, kids);
  });

  it('stores no key material unencrypted', async () => {
    const mongodbUri = database('keys_at_rest');
    const secret = randomSecret();
    const connection: Connection = await connectMongo({ uri: mongodbUri, timeoutMs: 5000 });
    try {
      const store = createKeyStore({ model: keySetModel(connection), box: createSecretBox(secret, 'keys') });
      const keySet = await store.loadOrCreate();
      const raw = JSON.stringify(await connection.collection('keyset').find().toArray());
      const privateParts = keySet.signingKeys.flatMap((key) =>
        ['d', 'p', 'q', 'dp', 'dq', 'qi', 'x', 'y', 'n'].map((name) => key.jwk[name as keyof typeof key.jwk]).filter(
          (value): value is string => typeof value === 'string',
        ),
      );
      expect(privateParts.length).to.be.greaterThan(8);
      for (const part of privateParts) expect(raw).not.to.include(part);
      for (const cookieKey of keySet.cookieKeys) expect(raw).not.to.include(cookieKey.key);
      expect(raw).not.to.match(/"d"\s*:/);
      // The sealed form really is what the key store reads back.
      expect(providerJwks(keySet, new Date()).map((jwk) => jwk.kid).sort()).to.deep.equal(
        keySet.signingKeys.map((key) => key.kid).sort(),
      );
    } finally {
      await connection.close();
    }
  });
});
