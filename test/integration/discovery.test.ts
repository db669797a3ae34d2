import { expect } from 'chai';
import { createLocalJWKSet, importJWK, SignJWT, jwtVerify, type JWK } from 'jose';
import type { RunningGatehouse } from '../../src/server.ts';
import { startInstance } from '../helpers/instance.ts';
import { emptyDatabaseUri, randomSecret, recycleDatabase, serviceUrls } from '../helpers/stores.ts';

describe('discovery and JWKS (real MongoDB-wire + Redis)', () => {
  const issuer = 'https://sso.example.com';
  let mongodbUri: string;
  let gatehouse: RunningGatehouse;

  before(async () => {
    mongodbUri = emptyDatabaseUri('discovery');
    gatehouse = await startInstance({ mongodbUri, redisUrl: serviceUrls().redisUrl, secret: randomSecret(), issuer });
  });
  after(async () => {
    await gatehouse.close();
    await recycleDatabase(mongodbUri);
  });

  it('serves the OpenID Provider metadata for the configured issuer', async () => {
    const response = await fetch(`${gatehouse.url}/.well-known/openid-configuration`);
    expect(response.status).to.equal(200);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata.issuer).to.equal(issuer);
    expect(metadata.jwks_uri).to.equal(`${issuer}/jwks`);
    expect(metadata.authorization_endpoint).to.equal(`${issuer}/auth`);
    expect(metadata.token_endpoint).to.equal(`${issuer}/token`);
    expect(metadata.code_challenge_methods_supported).to.deep.equal(['S256']);
    expect(metadata.id_token_signing_alg_values_supported).to.include.members(['RS256', 'ES256']);
  });

  it('publishes a valid JSON Web Key Set with RS256 and ES256 public keys only', async () => {
    const response = await fetch(`${gatehouse.url}/jwks`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^application\/jwk-set\+json/);
    const jwks = (await response.json()) as { keys: JWK[] };
    expect(jwks.keys.map((key) => key.alg).sort()).to.deep.equal(['ES256', 'RS256']);
    for (const key of jwks.keys) {
      expect(key.kid).to.be.a('string').with.length.greaterThan(10);
      expect(key.use).to.equal('sig');
      expect(key).not.to.have.any.keys('d', 'p', 'q', 'dp', 'dq', 'qi');
      await importJWK(key, key.alg);
    }
    expect(new Set(jwks.keys.map((key) => key.kid)).size).to.equal(jwks.keys.length);
  });

  it('publishes exactly the stored keys: a signature by a stored private key verifies against the JWKS', async () => {
    const jwks = (await (await fetch(`${gatehouse.url}/jwks`)).json()) as { keys: JWK[] };
    const stored = gatehouse.keySet.signingKeys.find((key) => key.alg === 'ES256');
    expect(stored).not.to.equal(undefined);
    const privateKey = await importJWK(stored!.jwk, 'ES256');
    const jwt = await new SignJWT({ probe: true }).setProtectedHeader({ alg: 'ES256', kid: stored!.kid }).sign(privateKey);
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks));
    expect(payload.probe).to.equal(true);
  });

  it('answers /healthz and /readyz', async () => {
    const health = await fetch(`${gatehouse.url}/healthz`);
    expect(health.status).to.equal(200);
    const ready = await fetch(`${gatehouse.url}/readyz`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.equal({ status: 'ok', checks: { mongodb: 'ok', redis: 'ok' } });
  });
});
