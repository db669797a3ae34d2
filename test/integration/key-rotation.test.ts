import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import type { Connection } from 'mongoose';
import { createSecretBox } from '../../src/crypto/secret-box.ts';
import { createKeyStore, generateKeyMaterial, type KeyStore, type NewKeyMaterial } from '../../src/keys/key-store.ts';
import { keySetModel } from '../../src/keys/model.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { startInstance, type InstanceOptions } from '../helpers/instance.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { runCli } from '../helpers/process.ts';
import { probeCookieSigner, probeSigningKey, withSigningProbe } from '../helpers/signing-probe.ts';
import { databasesForSuite, randomSecret, serviceUrls } from '../helpers/stores.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const HOUR = 3600_000;
/** How long another instance may take to pick a change up on a busy machine (far below the polls that would otherwise explain it). */
const NOTICE_LIMIT_MS = 20_000;

/**
 * The keys of `candidates` the Koa app's cookie signer holds, in its order (the first signs): each
 * candidate's keygrip signature (HMAC-SHA1, base64url) of a probe, and the index the signer names.
 */
function appCookieKeys(instance: RunningGatehouse, candidates: readonly string[]): string[] {
  const signer = instance.app.keys as { index(data: string, digest: string): number; sign(data: string): string };
  const probe = 'probe=1';
  const signed = (key: string) => createHmac('sha1', key).update(probe).digest('base64url');
  const held = candidates.map((key) => ({ key, at: signer.index(probe, signed(key)) })).filter(({ at }) => at !== -1);
  const ordered = held.sort((a, b) => a.at - b.at).map(({ key }) => key);
  expect(signer.sign(probe), 'the first key signs').to.equal(signed(ordered[0]!));
  return ordered;
}

async function jwks(instance: RunningGatehouse): Promise<{ keys: JWK[] }> {
  const response = await fetch(`${instance.url}/jwks`);
  expect(response.status).to.equal(200);
  return (await response.json()) as { keys: JWK[] };
}

async function publishedKids(instance: RunningGatehouse): Promise<string[]> {
  return (await jwks(instance)).keys.map((key) => key.kid!);
}

/** Polls /jwks until it lists every kid; resolves to how long that took. */
async function waitForKids(instance: RunningGatehouse, kids: readonly string[], withinMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started <= withinMs) {
    const published = await publishedKids(instance);
    if (kids.every((kid) => published.includes(kid))) return Date.now() - started;
    await sleep(25);
  }
  throw new Error(`kids ${kids.join(', ')} not published within ${withinMs} ms`);
}

/** Moves the instances' clock just past `moment`; the key ring rebuilds before this resolves. */
async function moveClockPast(clock: TestClock, moment: Date): Promise<void> {
  await clock.advance(Math.max(0, moment.getTime() - clock.now() + 1));
}

describe('key rotation (real MongoDB-wire + Redis, running instances, no restart)', function () {
  this.timeout(60_000);
  const database = databasesForSuite();
  const instances: RunningGatehouse[] = [];
  const connections: Connection[] = [];
  const start = async (options: InstanceOptions) => {
    const instance = await startInstance({ extendConfiguration: withSigningProbe, ...options });
    instances.push(instance);
    return instance;
  };
  const storeFor = async (
    mongodbUri: string,
    secret: string,
    newKeyMaterial?: () => Promise<NewKeyMaterial>,
  ): Promise<KeyStore> => {
    const connection = await connectMongo({ uri: mongodbUri, timeoutMs: 5000 });
    connections.push(connection);
    return createKeyStore({ model: keySetModel(connection), box: createSecretBox(secret, 'keys'), ...(newKeyMaterial ? { newKeyMaterial } : {}) });
  };
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((instance) => instance.close()));
    await Promise.all(connections.splice(0).map((connection) => connection.close()));
  });

  it('publishes new keys at once, signs with the old ones until activateAt, then with the new, and drops the old after retention', async () => {
    const mongodbUri = database('rotation_timeline');
    const secret = randomSecret();
    // Hours on a clock the test moves: however slow the machine, nothing happens until it does.
    const clock = testClock();
    const gatehouse = await start({
      mongodbUri,
      secret,
      clock,
      settings: { GATEHOUSE_KEY_PUBLISH_DELAY: '3600', GATEHOUSE_KEY_RETENTION: '7200', GATEHOUSE_KEY_POLL_INTERVAL: '60' },
    });
    const before = { RS256: await probeSigningKey(gatehouse.url, 'RS256'), ES256: await probeSigningKey(gatehouse.url, 'ES256') };
    const oldKids = [before.RS256.kid, before.ES256.kid];

    const rotation = await gatehouse.rotateKeys();
    expect(rotation.rotated).to.equal(true);
    const added = Object.fromEntries(rotation.signingKeys.map((key) => [key.alg, key]));
    const newKids = rotation.signingKeys.map((key) => key.kid);
    const activateAt = rotation.signingKeys[0]!.activateAt;

    // Published at once, next to the keys that still sign.
    expect(await publishedKids(gatehouse)).to.include.members([...oldKids, ...newKids]);
    expect(activateAt.getTime() - clock.now()).to.be.within(HOUR - 60_000, HOUR);
    for (const alg of ['RS256', 'ES256'] as const) {
      expect((await probeSigningKey(gatehouse.url, alg)).kid, `${alg} before activateAt`).to.equal(before[alg].kid);
    }

    await moveClockPast(clock, activateAt);
    for (const alg of ['RS256', 'ES256'] as const) {
      expect((await probeSigningKey(gatehouse.url, alg)).kid, `${alg} after activateAt`).to.equal(added[alg]!.kid);
    }
    // Tokens signed before the hand-over still verify against what is published now.
    const published = await jwks(gatehouse);
    for (const alg of ['RS256', 'ES256'] as const) await jwtVerify(before[alg].jwt, createLocalJWKSet(published));
    expect(published.keys.filter((key) => oldKids.includes(key.kid!)).map((key) => key.key_ops)).to.deep.equal([['verify'], ['verify']]);

    const removeAt = gatehouse.keySet.signingKeys.find((key) => key.kid === before.ES256.kid)!.removeAt!;
    expect(removeAt.getTime()).to.equal(activateAt.getTime() + 2 * HOUR);
    await moveClockPast(clock, removeAt);
    const after = await publishedKids(gatehouse);
    expect(after).to.include.members(newKids);
    expect(after.filter((kid) => oldKids.includes(kid))).to.deep.equal([]);
    // ...and the document no longer carries them (pruned by the instance at removeAt).
    const stored = await (await storeFor(mongodbUri, secret)).load();
    expect(stored!.signingKeys.map((key) => key.kid)).to.have.members(newKids);
    expect(stored!.cookieKeys).to.have.length(1);
  });

  it('shows the signing key’s age in /metrics, back near zero once a rotation’s keys sign', async () => {
    const clock = testClock({ frozen: true });
    const gatehouse = await start({ mongodbUri: database('rotation_age'), secret: randomSecret(), clock, settings: { GATEHOUSE_KEY_PUBLISH_DELAY: '3600' } });
    const age = async () => {
      const line = (await (await fetch(`${gatehouse.url}/metrics`)).text()).split('\n').find((text) => text.startsWith('gatehouse_signing_key_age_seconds '));
      return Number(line?.split(' ')[1]);
    };
    const madeAt = Math.min(...gatehouse.keySet.signingKeys.map((key) => key.createdAt.getTime()));
    await clock.advance(100 * 24 * HOUR);
    expect(await age()).to.equal(Math.floor((clock.now() - madeAt) / 1000));
    expect(await age()).to.be.at.least(100 * 24 * 3600);

    const rotation = await gatehouse.rotateKeys();
    expect(await age(), 'the new keys wait: the old still sign').to.be.at.least(100 * 24 * 3600);
    await moveClockPast(clock, rotation.signingKeys[0]!.activateAt);
    const newest = Math.min(...rotation.signingKeys.map((key) => key.createdAt.getTime()));
    expect(await age()).to.equal(Math.floor((clock.now() - newest) / 1000));
    expect(await age()).to.be.below(2 * 3600);
  });

  it('switches the cookie-signing key only at activateAt and keeps the old one for verification', async () => {
    const clock = testClock();
    const gatehouse = await start({
      mongodbUri: database('rotation_cookies'),
      secret: randomSecret(),
      clock,
      settings: { GATEHOUSE_KEY_PUBLISH_DELAY: '3600', GATEHOUSE_KEY_RETENTION: '7200', GATEHOUSE_KEY_POLL_INTERVAL: '60' },
    });
    const oldKey = gatehouse.keySet.cookieKeys[0]!.key;
    expect(await probeCookieSigner(gatehouse.url, [oldKey])).to.equal(oldKey);

    const rotation = await gatehouse.rotateKeys();
    const newCookie = rotation.cookieKeys[0]!;
    const newKey = gatehouse.keySet.cookieKeys.find((key) => key.id === newCookie.id)!.key;
    expect(await probeCookieSigner(gatehouse.url, [oldKey, newKey])).to.equal(oldKey);
    expect(appCookieKeys(gatehouse, [oldKey, newKey])).to.deep.equal([oldKey]);

    await moveClockPast(clock, newCookie.activateAt);
    expect(await probeCookieSigner(gatehouse.url, [oldKey, newKey])).to.equal(newKey);
    // The first key signs; the old one still verifies, in the provider and in the Koa app alike.
    expect(appCookieKeys(gatehouse, [oldKey, newKey])).to.deep.equal([newKey, oldKey]);
  });

  it('shows a rotation made through instance A in instance B by the Redis notice (long before a poll), and so does the CLI', async () => {
    const mongodbUri = database('rotation_redis');
    const secret = randomSecret();
    const { redisUrl } = serviceUrls();
    // Polling slower than the test lasts: only the Redis notice can explain a prompt update.
    // The publish delay outlasts two CLI processes on a busy machine, so the new keys are still "next".
    const settings = { GATEHOUSE_KEY_PUBLISH_DELAY: '60', GATEHOUSE_KEY_POLL_INTERVAL: '120' };
    const a = await start({ mongodbUri, secret, redisUrl, settings });
    const b = await start({ mongodbUri, secret, redisUrl, settings });

    const viaA = await a.rotateKeys();
    // Only the notice can explain an update before the 120 s poll; how soon it comes depends on the machine's load.
    await waitForKids(b, viaA.signingKeys.map((key) => key.kid), NOTICE_LIMIT_MS);

    const cli = await runCli(['keys', 'rotate', '--json'], {
      NODE_ENV: 'test',
      MONGODB_URI: mongodbUri,
      REDIS_URL: redisUrl,
      GATEHOUSE_SECRET: secret,
      GATEHOUSE_KEY_PUBLISH_DELAY: '60',
    });
    expect(cli.code, cli.stderr).to.equal(0);
    const printed = JSON.parse(cli.stdout) as { rotated: boolean; announced: boolean; keys: Array<{ kid: string; alg: string; activate_at: string }> };
    expect(printed.rotated).to.equal(true);
    expect(printed.announced).to.equal(true);
    expect(printed.keys.map((key) => key.alg).sort()).to.deep.equal(['ES256', 'RS256']);
    for (const key of printed.keys) expect(Date.parse(key.activate_at)).to.be.greaterThan(Date.now());
    const cliKids = printed.keys.map((key) => key.kid);
    await Promise.all([waitForKids(a, cliKids, NOTICE_LIMIT_MS), waitForKids(b, cliKids, NOTICE_LIMIT_MS)]);

    const listed = await runCli(['keys', 'list', '--json'], { NODE_ENV: 'test', MONGODB_URI: mongodbUri, GATEHOUSE_SECRET: secret });
    const statuses = (JSON.parse(listed.stdout) as { keys: Array<{ kid: string; status: string }> }).keys;
    expect(statuses.filter((key) => cliKids.includes(key.kid)).map((key) => key.status)).to.deep.equal(['next', 'next']);
    expect(statuses.filter((key) => key.status === 'active')).to.have.length(2);
  });

  it('shows a rotation made through instance A in instance B by polling without Redis', async () => {
    const mongodbUri = database('rotation_poll');
    const secret = randomSecret();
    const settings = { GATEHOUSE_KEY_PUBLISH_DELAY: '5', GATEHOUSE_KEY_POLL_INTERVAL: '1' };
    const a = await start({ mongodbUri, secret, settings });
    const b = await start({ mongodbUri, secret, settings });
    const rotation = await a.rotateKeys();
    expect(await publishedKids(a)).to.include.members(rotation.signingKeys.map((key) => key.kid));
    // Nothing but the 1 s poll tells B (no Redis); the wait allows for a busy machine.
    await waitForKids(b, rotation.signingKeys.map((key) => key.kid), NOTICE_LIMIT_MS);
  });

  it('makes exactly one new generation from concurrent rotations through two stores', async () => {
    const mongodbUri = database('rotation_race');
    const secret = randomSecret();
    // Both writers get their key material at the same instant, so their compare-and-set writes
    // really collide (real key generation takes variable time and would mostly serialise them).
    let arrived = 0;
    let release: () => void = () => {};
    let barrier = new Promise<void>((resolve) => (release = resolve));
    const lineUp = async () => {
      const material = await generateKeyMaterial();
      if (++arrived === 2) release();
      await barrier;
      return material;
    };
    const first = await storeFor(mongodbUri, secret, lineUp);
    const second = await storeFor(mongodbUri, secret, lineUp);
    await first.loadOrCreate();
    const policy = { publishDelayMs: 60_000, retentionMs: 60_000 };
    for (let round = 1; round <= 5; round++) {
      arrived = 0;
      barrier = new Promise<void>((resolve) => (release = resolve));
      const results = await Promise.all([first.rotate(policy), second.rotate(policy)]);
      expect(results.map((result) => result.rotated).sort(), `round ${round}`).to.deep.equal([false, true]);
      const stored = (await first.load())!;
      expect(stored.signingKeys, `round ${round}`).to.have.length(2 + 2 * round);
      expect(stored.cookieKeys).to.have.length(1 + round);
      // The loser reports the winner's set, not an older one.
      expect(results[0]!.keySet.version).to.equal(stored.version);
      expect(results[1]!.keySet.version).to.equal(stored.version);
      const winner = results.find((result) => result.rotated)!;
      expect(stored.signingKeys.map((key) => key.kid)).to.include.members(winner.signingKeys.map((key) => key.kid));
    }
  });

  it('rotates on schedule once, even with two racing instances', async () => {
    const mongodbUri = database('rotation_schedule');
    const secret = randomSecret();
    const store = await storeFor(mongodbUri, secret);
    const initial = await store.loadOrCreate();
    const clock = testClock();
    await clock.advance(2 * HOUR + 1000);
    // The newest key is now older than the interval: both instances find rotation due at startup.
    const settings = { GATEHOUSE_KEY_PUBLISH_DELAY: '3600', GATEHOUSE_KEY_ROTATION_INTERVAL: '7200', GATEHOUSE_KEY_POLL_INTERVAL: '60' };
    await Promise.all([start({ mongodbUri, secret, settings, clock }), start({ mongodbUri, secret, settings, clock })]);
    const stored = (await store.load())!;
    expect(stored.signingKeys).to.have.length(4);
    expect(stored.signingKeys.filter((key) => !initial.signingKeys.some((old) => old.kid === key.kid))).to.have.length(2);
  });
});
