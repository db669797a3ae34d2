import { expect } from 'chai';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { verifier } from '../../src/oidc/jwt-verifier.ts';

const ISSUER = 'https://id.example';

async function signingKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { privateKey, jwk, kid };
}

async function token(key: Awaited<ReturnType<typeof signingKey>>, claims: Record<string, unknown>) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' }).setIssuer(ISSUER).sign(key.privateKey);
}

describe('JWT access-token verifier (remembers verified tokens)', () => {
  it('answers a remembered token without verifying its signature again, and forgets it when its key leaves the published set', async () => {
    const key = await signingKey('k1');
    const other = await signingKey('k2');
    let published = [key.jwk, other.jwk];
    let verifications = 0;
    const { createLocalJWKSet } = await import('jose');
    const keys = () => {
      const jwks = createLocalJWKSet({ keys: published });
      const counted = ((...args: Parameters<typeof jwks>) => {
        verifications += 1;
        return jwks(...args);
      }) as typeof jwks;
      return { keys: counted, fingerprint: published.map((jwk) => jwk.kid).join(',') };
    };
    const verify = verifier(ISSUER, keys, () => 1_000_000);
    const jwt = await token(key, { jti: 'a', exp: 2_000, iat: 900 });

    expect(await verify(jwt)).to.include({ jti: 'a' });
    expect(await verify(jwt)).to.include({ jti: 'a' });
    expect(verifications).to.equal(1);

    published = [other.jwk];
    expect(await verify(jwt)).to.equal(undefined);
    expect(verifications).to.equal(2);
  });

  it('stops answering a remembered token once it has expired', async () => {
    const key = await signingKey('k1');
    let clock = 1_000_000;
    const { importJWK } = await import('jose');
    const publicKey = await importJWK(key.jwk, 'ES256');
    const fixed = verifier(ISSUER, () => ({ keys: (async () => publicKey) as never, fingerprint: 'one' }), () => clock);
    const jwt = await token(key, { jti: 'b', exp: 1_010 });
    expect(await fixed(jwt)).to.include({ jti: 'b' });
    clock = 1_009_999;
    expect(await fixed(jwt)).to.include({ jti: 'b' });
    clock = 1_010_000;
    expect(await fixed(jwt)).to.equal(undefined);

    clock = 1_000_000;
    const early = await token(key, { jti: 'c', exp: 1_100, nbf: 990 });
    expect(await fixed(early)).to.include({ jti: 'c' });
  });

  it('does not remember failures, and tells opaque tokens apart', async () => {
    const key = await signingKey('k1');
    const stranger = await signingKey('k1');
    let published = [stranger.jwk];
    const { createLocalJWKSet } = await import('jose');
    const verify = verifier(ISSUER, () => ({ keys: createLocalJWKSet({ keys: published }), fingerprint: 'same' }), () => 1_000_000);
    const jwt = await token(key, { jti: 'd', exp: 2_000 });
    expect(await verify(jwt)).to.equal(undefined);
    published = [key.jwk];
    expect(await verify(jwt)).to.include({ jti: 'd' });
    expect(await verify('an-opaque-token')).to.equal('not_a_jwt');
    expect(await verify('not.a.jwt')).to.equal('not_a_jwt');
  });

  it('tells what it remembers without a promise, only while the call would answer the same', async () => {
    const key = await signingKey('k1');
    const other = await signingKey('k2');
    let published = [key.jwk, other.jwk];
    let clock = 1_000_000;
    const { createLocalJWKSet } = await import('jose');
    const verify = verifier(ISSUER, () => ({ keys: createLocalJWKSet({ keys: published }), fingerprint: published.map((jwk) => jwk.kid).join(',') }), () => clock);
    const jwt = await token(key, { jti: 'e', exp: 1_010, nbf: 995 });
    const stranger = await token(await signingKey('k1'), { jti: 'f', exp: 2_000 });

    // Nothing verified yet, a failure, an opaque token: the call decides.
    expect(verify.remembered(jwt)).to.equal(undefined);
    expect(await verify(stranger)).to.equal(undefined);
    expect(verify.remembered(stranger)).to.equal(undefined);
    expect(verify.remembered('an-opaque-token')).to.equal(undefined);

    const claims = await verify(jwt);
    expect(claims).to.include({ jti: 'e' });
    expect(verify.remembered(jwt)).to.equal(claims);

    // Expired: neither answers it any more.
    clock = 1_010_000;
    expect(verify.remembered(jwt)).to.equal(undefined);
    expect(await verify(jwt)).to.equal(undefined);

    // Remembered again, then its key leaves the published set.
    clock = 1_000_000;
    expect(await verify(jwt)).to.include({ jti: 'e' });
    expect(verify.remembered(jwt)).to.include({ jti: 'e' });
    published = [other.jwk];
    expect(verify.remembered(jwt)).to.equal(undefined);
    expect(await verify(jwt)).to.equal(undefined);

    // Not yet valid by the clock (nbf), though verified before.
    published = [key.jwk, other.jwk];
    expect(await verify(jwt)).to.include({ jti: 'e' });
    clock = 994_000;
    expect(verify.remembered(jwt)).to.equal(undefined);
  });
});
