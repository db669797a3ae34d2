import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { generateSigningKey, SIGNING_ALGS, type SigningAlg } from '../../src/keys/generate.ts';
import { cookieKeyList, keyStatus, nextStatusChange, providerJwks, type KeySet, type SigningKey } from '../../src/keys/key-store.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { providerBuilder } from '../../src/oidc/build-provider.ts';
import { providerConfiguration } from '../../src/oidc/configuration.ts';
import { createProvider } from '../../src/oidc/provider.ts';
import type Provider from 'oidc-provider';
import { testProviderSettings } from '../helpers/provider-settings.ts';
import { probeSigningKey, withSigningProbe } from '../helpers/signing-probe.ts';

const HOUR = 3_600_000;
const T0 = new Date('2030-01-01T00:00:00Z');
const at = (offsetMs: number) => new Date(T0.getTime() + offsetMs);

async function signingKey(alg: SigningAlg, activateAt: Date, retireAt: Date | null, removeAt: Date | null): Promise<SigningKey> {
  const jwk = await generateSigningKey(alg);
  return { kid: jwk.kid, alg, jwk, createdAt: at(-100 * HOUR), activateAt, retireAt, removeAt };
}

/** Per alg: a removed, a retired, the active and a next key, as after several rotations. */
async function rotatedKeySet() {
  const byAlg = new Map<SigningAlg, { removed: SigningKey; retired: SigningKey; active: SigningKey; next: SigningKey }>();
  for (const alg of SIGNING_ALGS) {
    byAlg.set(alg, {
      removed: await signingKey(alg, at(-30 * HOUR), at(-20 * HOUR), at(-1 * HOUR)),
      retired: await signingKey(alg, at(-20 * HOUR), at(-10 * HOUR), at(10 * HOUR)),
      active: await signingKey(alg, at(-10 * HOUR), at(1 * HOUR), at(20 * HOUR)),
      next: await signingKey(alg, at(1 * HOUR), null, null),
    });
  }
  const keySet: KeySet = {
    version: 7,
    signingKeys: [...byAlg.values()].flatMap((keys) => [keys.removed, keys.retired, keys.active, keys.next]),
    cookieKeys: [
      { id: 'old', key: 'old-cookie-key', createdAt: at(-20 * HOUR), activateAt: at(-20 * HOUR), retireAt: at(1 * HOUR), removeAt: at(20 * HOUR) },
      { id: 'new', key: 'new-cookie-key', createdAt: at(-1 * HOUR), activateAt: at(1 * HOUR), retireAt: null, removeAt: null },
    ],
  };
  const keysOf = (alg: SigningAlg) => byAlg.get(alg)!;
  return { keySet, keysOf };
}

async function serve(provider: Provider): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function withProvider<T>(provider: Provider, run: (url: string) => Promise<T>): Promise<T> {
  const served = await serve(provider);
  try {
    return await run(served.url);
  } finally {
    await served.close();
  }
}

const build = providerBuilder({
  issuer: 'http://127.0.0.1',
  logger: createLogger('silent'),
  settings: testProviderSettings(),
  extendConfiguration: withSigningProbe,
});

describe('signing key selection (oidc-provider keystore, observed at its token endpoint)', () => {
  it('signs with the active key of each alg and publishes next + active + retired, never removed', async () => {
    const { keySet, keysOf } = await rotatedKeySet();
    await withProvider(build(keySet, T0), async (url) => {
      for (const alg of SIGNING_ALGS) {
        const signed = await probeSigningKey(url, alg);
        expect(signed.kid, alg).to.equal(keysOf(alg).active.kid);
      }
      const jwks = (await (await fetch(`${url}/jwks`)).json()) as { keys: JWK[] };
      for (const alg of SIGNING_ALGS) {
        const { removed, retired, active, next } = keysOf(alg);
        const published = jwks.keys.filter((key) => key.alg === alg).map((key) => key.kid);
        expect(published).to.have.members([active.kid, next.kid, retired.kid]);
        expect(published).not.to.include(removed.kid);
      }
      // key_ops: ['verify'] on the published public keys is accepted by a relying party's JOSE library.
      const signed = await probeSigningKey(url, 'ES256');
      await jwtVerify(signed.jwt, createLocalJWKSet(jwks));
    });
  });

  it('never signs with a "next" key, even when it is listed before the active one', async () => {
    const { keySet, keysOf } = await rotatedKeySet();
    const nextFirst = [...providerJwks(keySet, T0)].sort((a, b) => Number(b.key_ops !== undefined) - Number(a.key_ops !== undefined));
    expect(nextFirst[0]!.kid).to.be.oneOf(SIGNING_ALGS.flatMap((alg) => [keysOf(alg).next.kid, keysOf(alg).retired.kid]));
    const configuration = withSigningProbe(providerConfiguration({ ...testProviderSettings(), jwks: nextFirst, cookieKeys: cookieKeyList(keySet, T0) }));
    await withProvider(createProvider({ issuer: 'http://127.0.0.1', configuration }), async (url) => {
      for (const alg of SIGNING_ALGS) expect((await probeSigningKey(url, alg)).kid, alg).to.equal(keysOf(alg).active.kid);
    });
  });

  it('(control) without key_ops the library signs with whichever key of the alg comes first', async () => {
    const { keySet, keysOf } = await rotatedKeySet();
    const nextFirst = SIGNING_ALGS.flatMap((alg) => [keysOf(alg).next.jwk, keysOf(alg).active.jwk]);
    const configuration = withSigningProbe(providerConfiguration({ ...testProviderSettings(), jwks: nextFirst, cookieKeys: cookieKeyList(keySet, T0) }));
    await withProvider(createProvider({ issuer: 'http://127.0.0.1', configuration }), async (url) => {
      for (const alg of SIGNING_ALGS) expect((await probeSigningKey(url, alg)).kid, alg).to.equal(keysOf(alg).next.kid);
    });
  });

  it('hands signing to the next key exactly at its activateAt', async () => {
    const { keySet, keysOf } = await rotatedKeySet();
    const handover = keysOf('RS256').next.activateAt;
    expect(keyStatus(keysOf('RS256').active, new Date(handover.getTime() - 1))).to.equal('active');
    expect(keyStatus(keysOf('RS256').active, handover)).to.equal('retired');
    expect(keyStatus(keysOf('RS256').next, handover)).to.equal('active');
    await withProvider(build(keySet, handover), async (url) => {
      for (const alg of SIGNING_ALGS) expect((await probeSigningKey(url, alg)).kid, alg).to.equal(keysOf(alg).next.kid);
    });
  });

  it('signs cookies with the active cookie key until the next one activates; old ones keep verifying', async () => {
    const { keySet } = await rotatedKeySet();
    expect(cookieKeyList(keySet, T0)).to.deep.equal(['old-cookie-key']);
    expect(cookieKeyList(keySet, at(1 * HOUR))).to.deep.equal(['new-cookie-key', 'old-cookie-key']);
    expect(cookieKeyList(keySet, at(20 * HOUR))).to.deep.equal(['new-cookie-key']);
  });

  it('knows the next moment a status changes by time alone', async () => {
    const { keySet } = await rotatedKeySet();
    expect(nextStatusChange(keySet, T0)).to.deep.equal(at(1 * HOUR));
    expect(nextStatusChange(keySet, at(1 * HOUR))).to.deep.equal(at(10 * HOUR));
    expect(nextStatusChange(keySet, at(20 * HOUR))).to.equal(undefined);
  });
});
