import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, SignJWT, type CompactJWSHeaderParameters } from 'jose';
import * as oidc from 'openid-client';
import type { Redis } from 'ioredis';
import type { RunningGatehouse } from '../../src/server.ts';
import type { Connection } from 'mongoose';
import { connectMongo } from '../../src/storage/mongo.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { providerJwks } from '../../src/keys/key-store.ts';
import { testClock } from '../helpers/clock.ts';
import { freePort } from '../helpers/redis-server.ts';
import { API, clientSigningKey, deployment, keyHoldingService, oauthError, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';


/** The payload of every ClientCredentials record in Redis (key → payload and TTL). */
async function clientCredentialRecords(redis: Redis, prefix: string): Promise<Map<string, { kind: unknown; ttl: number }>> {
  const records = new Map<string, { kind: unknown; ttl: number }>();
  for (const key of await redis.keys(`${prefix}ClientCredentials:*`)) {
    const payload = await redis.hget(key, 'payload');
    if (payload !== null) records.set(key, { kind: (JSON.parse(payload) as { kind?: unknown }).kind, ttl: await redis.ttl(key) });
  }
  return records;
}

/** `token` re-signed by `instance`'s signing key with `iat` and `exp` moved `seconds` back and a new `jti`: the same client's token, issued that much earlier. */
async function backdated(instance: RunningGatehouse, token: string, seconds: number): Promise<string> {
  const header = decodeProtectedHeader(token);
  const payload = decodeJwt(token);
  const jwk = providerJwks(instance.keySet, new Date()).find((key) => key.kid === header.kid);
  if (jwk === undefined) throw new Error(`no private key ${header.kid}`);
  return new SignJWT({ ...payload, jti: randomBytes(16).toString('base64url'), iat: payload.iat! - seconds, exp: payload.exp! - seconds })
    .setProtectedHeader(header as CompactJWSHeaderParameters)
    .sign(await importJWK(jwk, jwk.alg));
}

describe('client credentials, introspection and revocation (openid-client, two instances)', () => {
  const clock = testClock();
  let deploy: Deployment;
  let a: RunningGatehouse;
  let b: RunningGatehouse;
  let cast: Seeded;
  let service: oidc.Configuration;
  /** The same client talking to instance B (same issuer, other port). */
  let serviceAtB: oidc.Configuration;

  before(async () => {
    deploy = await deployment('client_credentials', { clock });
    a = await deploy.start();
    b = await deploy.start(await freePort());
    cast = await seed(a);
    service = await relyingParty(deploy.issuer, cast.service.clientId, cast.service.secret);
    serviceAtB = await relyingParty(deploy.issuer, cast.service.clientId, cast.service.secret, oidc.ClientSecretBasic(cast.service.secret));
    // Point B's copy at instance B: discovery says the issuer's port, so rewrite requests on the way.
    const bPort = new URL(b.url).port;
    serviceAtB[oidc.customFetch] = (url, options) => {
      const target = new URL(url);
      target.port = bPort;
      return fetch(target, options as RequestInit);
    };
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    await deploy.drop();
  });

  it('issues an RFC 9068 JWT for the default API that verifies against the published JWKS', async () => {
    const tokens = await oidc.clientCredentialsGrant(service, { scope: 'read' });
    expect(tokens.token_type.toLowerCase()).to.equal('bearer');
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${deploy.issuer}/jwks`)), {
      issuer: deploy.issuer,
      audience: API,
      typ: 'at+jwt',
    });
    expect(protectedHeader.alg).to.equal('RS256');
    expect(payload).to.include({ client_id: cast.service.clientId, sub: cast.service.clientId, scope: 'read' });
    expect(payload.jti).to.be.a('string');
    expect(payload.exp! - payload.iat!).to.equal(600);
  });

  it('refuses an API the client is not allowed (invalid_target) and a scope the API does not define (invalid_scope)', async () => {
    await a.services.apis.create({ identifier: 'https://payroll.example.com', scopes: ['pay'] });
    expect((await oauthError(oidc.clientCredentialsGrant(service, { resource: 'https://payroll.example.com' }))).error).to.equal('invalid_target');
    expect((await oauthError(oidc.clientCredentialsGrant(service, { resource: 'https://unknown.example.com' }))).error).to.equal('invalid_target');
    expect((await oauthError(oidc.clientCredentialsGrant(service, { scope: 'read delete' }))).error).to.equal('invalid_scope');
  });

  it('refuses a scope for a client with no API (invalid_scope, never silently dropped); openid alone still works', async () => {
    const created = await a.services.clients.create({
      displayName: 'No API',
      metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' },
    });
    const noApi = await relyingParty(deploy.issuer, created.client.clientId, created.secret);
    for (const scope of ['foo', 'admin', 'openid foo']) {
      const refused = await oauthError(oidc.clientCredentialsGrant(noApi, { scope }));
      expect(refused.error, scope).to.equal('invalid_scope');
      expect(refused.status, scope).to.equal(400);
      expect(refused.description, scope).to.include('no API');
    }
    expect((await oidc.clientCredentialsGrant(noApi, {})).access_token).to.be.a('string');
    expect((await oidc.clientCredentialsGrant(noApi, { scope: 'openid' })).access_token).to.be.a('string');
  });

  it('limits a client to the scopes it is allowed within an API', async () => {
    const limited = await a.services.clients.create({
      displayName: 'Read-only reporter',
      allowedApis: [API],
      metadata: {
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
        default_api: API,
        allowed_api_scopes: [{ api: API, scopes: ['read'] }],
      },
    });
    const reporter = await relyingParty(deploy.issuer, limited.client.clientId, limited.secret);
    expect(decodeJwt((await oidc.clientCredentialsGrant(reporter, { scope: 'read' })).access_token).scope).to.equal('read');
    expect((await oauthError(oidc.clientCredentialsGrant(reporter, { scope: 'read write' }))).error).to.equal('invalid_scope');
    expect((await oauthError(oidc.clientCredentialsGrant(reporter, { scope: 'write' }))).error).to.equal('invalid_scope');
  });

  it('issues opaque tokens for an opaque-format API', async () => {
    const tokens = await oidc.clientCredentialsGrant(service, { resource: `${API}/opaque`, scope: 'read' });
    expect(tokens.access_token.split('.')).to.have.length(1);
    const introspection = await oidc.tokenIntrospection(service, tokens.access_token);
    expect(introspection).to.include({ active: true, client_id: cast.service.clientId, aud: `${API}/opaque`, scope: 'read' });
  });

  for (const format of ['opaque', 'jwt'] as const) it(`refuses ${format === 'jwt' ? 'a JWT' : 'an opaque token'} that a bulk revocation\'s store scan missed (issued while it ran): its client\'s mark is checked at every read`, async () => {
    const own = await a.services.clients.create({
      displayName: `Scanned service (${format})`,
      allowedApis: [API, `${API}/opaque`],
      metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', default_api: API },
    });
    const ownService = await relyingParty(deploy.issuer, own.client.clientId, own.secret);
    const { access_token: token } = await oidc.clientCredentialsGrant(ownService, { resource: format === 'jwt' ? API : `${API}/opaque`, scope: 'read' });
    // A JWT's record is derived (and written) by its first introspection, here at A only.
    expect((await oidc.tokenIntrospection(ownService, token)).active).to.equal(true);
    expect((await oidc.tokenIntrospection(ownService, token)).active, 'again, from the record A wrote').to.equal(true);
    // The revocation's first step (the mark) without its deletions: the record is still stored,
    // as one written behind the scan would be.
    expect(await b.services.clients.markTokensRevoked(own.client.clientId)).to.equal(true);
    expect((await oidc.tokenIntrospection(ownService, token)).active, 'at A').to.equal(false);
    const ownAtB = await relyingParty(deploy.issuer, own.client.clientId, own.secret);
    const bPort = new URL(b.url).port;
    ownAtB[oidc.customFetch] = (url, options) => fetch(Object.assign(new URL(url), { port: bPort }), options as RequestInit);
    expect((await oidc.tokenIntrospection(ownAtB, token)).active, 'at B').to.equal(false);
  });

  for (const format of ['jwt', 'opaque'] as const) {
    it(`introspects a ${format} token as active on both instances, then inactive everywhere once revoked on one`, async () => {
      const resource = format === 'jwt' ? API : `${API}/opaque`;
      const { access_token: token } = await oidc.clientCredentialsGrant(service, { resource, scope: 'read' });
      const atA = await oidc.tokenIntrospection(service, token);
      expect(atA).to.include({ active: true, client_id: cast.service.clientId, scope: 'read', iss: deploy.issuer });
      expect(atA.aud).to.equal(resource);
      expect((await oidc.tokenIntrospection(serviceAtB, token)).active, 'instance B sees it too').to.equal(true);

      await oidc.tokenRevocation(serviceAtB, token);
      expect((await oidc.tokenIntrospection(service, token)).active, 'revoked on B, inactive on A').to.equal(false);
      expect((await oidc.tokenIntrospection(serviceAtB, token)).active).to.equal(false);
    });
  }

  describe('client_credentials JWTs are not written at issuance (derived at introspection, tombstoned at revocation)', () => {
    let redis: Redis;
    let mongo: Connection;
    before(async () => {
      redis = await connectRedis({ url: deploy.redisUrl!, timeoutMs: 5000 });
      mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    });
    after(async () => {
      await redis.quit();
      await mongo.close();
    });

    it('issues them without a storage write and marks them gty=client-credentials', async () => {
      const prefix = deploy.settings.GATEHOUSE_REDIS_PREFIX!;
      const before = await clientCredentialRecords(redis, prefix);
      const mongoBefore = await mongo.db!.collection('oidc_client_credentials').countDocuments();
      const issued = await Promise.all([1, 2, 3].map(() => oidc.clientCredentialsGrant(service, { scope: 'read' })));
      // No record added (earlier tests' records may expire meanwhile, and KEYS has no order).
      expect([...(await clientCredentialRecords(redis, prefix)).keys()].filter((key) => !before.has(key))).to.deep.equal([]);
      expect(await mongo.db!.collection('oidc_client_credentials').countDocuments()).to.equal(mongoBefore);
      for (const { access_token: token } of issued) expect(decodeJwt(token)).to.include({ gty: 'client-credentials', sub: cast.service.clientId });

      const introspected = await oidc.tokenIntrospection(serviceAtB, issued[0]!.access_token);
      expect(introspected).to.include({ active: true, client_id: cast.service.clientId, scope: 'read', aud: API, token_type: 'Bearer' });
      expect(introspected.exp).to.equal(decodeJwt(issued[0]!.access_token).exp);
    });

    it('keeps a revoked one revoked until it expires, on every instance, even one that never saw it', async function () {
      // A third Gatehouse started in the test (≈ 2 CPU-s): past mocha's 30 s at load 45–50 on the shared 2 cores.
      this.timeout(120_000);
      const prefix = deploy.settings.GATEHOUSE_REDIS_PREFIX!;
      const { access_token: token } = await oidc.clientCredentialsGrant(service, { scope: 'read' });
      const { exp } = decodeJwt(token);
      expect((await oidc.tokenIntrospection(service, token)).active).to.equal(true);
      const before = await clientCredentialRecords(redis, prefix);
      // Seconds left of the token on Gatehouse's clock (an earlier test moved it), before and after
      // the revocation and the TTL read: the tombstone's TTL lies between, however slow the machine.
      const left = () => exp! - Math.floor(clock.now() / 1000);
      const leftBefore = left();
      await oidc.tokenRevocation(service, token);
      const tombstones = [...(await clientCredentialRecords(redis, prefix))].filter(([key, record]) => !before.has(key) && record.kind === 'JwtRevocation');
      expect(tombstones, 'one tombstone').to.have.length(1);
      expect(tombstones[0]![1].ttl).to.be.within(left() - 1, leftBefore);

      const c = await deploy.start(await freePort());
      try {
        const serviceAtC = await relyingParty(deploy.issuer, cast.service.clientId, cast.service.secret);
        const cPort = new URL(c.url).port;
        serviceAtC[oidc.customFetch] = (url, options) => fetch(Object.assign(new URL(url), { port: cPort }), options as RequestInit);
        for (const configuration of [serviceAtC, service, serviceAtB, serviceAtC]) {
          expect((await oidc.tokenIntrospection(configuration, token)).active).to.equal(false);
        }
      } finally {
        await c.close();
      }
    });

    it('answers inactive for the token of a client that was deleted', async () => {
      const doomed = await a.services.clients.create({
        displayName: 'Doomed service',
        allowedApis: [API],
        metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', default_api: API },
      });
      // The provider's `iat` is on the system clock (no seam), and a token from the very second of
      // the re-creation below is documented to slip through. Rather than wait for the next second:
      // the client as if created three seconds ago (its mark moved back before anything read it),
      // and its token as if issued two seconds earlier (signed with the instance's own key).
      const { tokensRevokedAt } = (await mongo.db!.collection('clients').findOne({ _id: doomed.client.clientId as never }))!;
      await mongo.db!.collection('clients').updateOne({ _id: doomed.client.clientId as never }, { $set: { tokensRevokedAt: new Date((tokensRevokedAt as Date).getTime() - 3000) } });
      const doomedService = await relyingParty(deploy.issuer, doomed.client.clientId, doomed.secret);
      const { access_token: token } = await oidc.clientCredentialsGrant(doomedService, { scope: 'read' });
      const earlier = await backdated(a, token, 2);
      const apiClient = await a.services.clients.create({
        displayName: 'Resource server',
        metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' },
      });
      await a.services.apis.setClient(API, apiClient.client.clientId);
      const resourceServer = await relyingParty(deploy.issuer, apiClient.client.clientId, apiClient.secret);
      expect((await oidc.tokenIntrospection(resourceServer, token)).active).to.equal(true);
      expect((await oidc.tokenIntrospection(resourceServer, earlier)).active, 'the backdated copy is a valid token').to.equal(true);
      expect(await a.services.clients.delete(doomed.client.clientId)).to.equal(true);
      expect((await oidc.tokenIntrospection(resourceServer, token)).active).to.equal(false);

      // Created again under the same id: the old client's token (from an earlier second) stays refused, on both instances.
      const reborn = await a.services.clients.create({
        clientId: doomed.client.clientId,
        displayName: 'Doomed service, again',
        allowedApis: [API],
        metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', default_api: API },
      });
      const rebornService = await relyingParty(deploy.issuer, reborn.client.clientId, reborn.secret);
      const { access_token: fresh } = await oidc.clientCredentialsGrant(rebornService, { scope: 'read' });
      const resourceServerAtB = await relyingParty(deploy.issuer, apiClient.client.clientId, apiClient.secret);
      const bPort = new URL(b.url).port;
      resourceServerAtB[oidc.customFetch] = (url, options) => fetch(Object.assign(new URL(url), { port: bPort }), options as RequestInit);
      for (const [label, introspector] of [['A', resourceServer], ['B', resourceServerAtB]] as const) {
        expect((await oidc.tokenIntrospection(introspector, earlier)).active, `the old client's token at ${label}`).to.equal(false);
        expect((await oidc.tokenIntrospection(introspector, fresh)).active, `the new client's token at ${label}`).to.equal(true);
      }
    });
  });

  it('does not treat the bare jti of a JWT as a credential', async () => {
    const { access_token: token } = await oidc.clientCredentialsGrant(service, { scope: 'read' });
    const { jti } = decodeJwt(token);
    expect((await oidc.tokenIntrospection(service, token)).active).to.equal(true);
    expect((await oidc.tokenIntrospection(service, jti!)).active).to.equal(false);
  });

  it('answers inactive, never an error, for malformed, foreign and tampered JWTs', async () => {
    const { access_token: token } = await oidc.clientCredentialsGrant(service, { scope: 'read' });
    const [header, body, signature] = token.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...decodeJwt(token), scope: 'read write' })).toString('base64url')}.${signature}`;
    for (const candidate of ['eyJhbGciOiJub25lIn0.e30.', `${header}.garbage.${signature}`, tampered, 'a.b.c', `${body}`]) {
      const result = await oidc.tokenIntrospection(service, candidate);
      expect(result.active, candidate).to.equal(false);
    }
  });

  it('lets only the token\'s client or the API\'s own client introspect it', async () => {
    const { access_token: token } = await oidc.clientCredentialsGrant(service, { scope: 'read' });
    const other = await a.services.clients.create({
      displayName: 'Nosy',
      metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' },
    });
    const nosy = await relyingParty(deploy.issuer, other.client.clientId, other.secret);
    expect((await oidc.tokenIntrospection(nosy, token)).active).to.equal(false);
    await oidc.tokenRevocation(nosy, token);
    expect((await oidc.tokenIntrospection(service, token)).active, 'another client cannot revoke it').to.equal(true);

    const apiClient = await a.services.clients.create({
      displayName: 'Example API',
      metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post' },
    });
    await a.services.apis.setClient(API, apiClient.client.clientId);
    const api = await relyingParty(deploy.issuer, apiClient.client.clientId, apiClient.secret, oidc.ClientSecretPost(apiClient.secret));
    expect((await oidc.tokenIntrospection(api, token)).active).to.equal(true);
  });

  it('reports expired tokens inactive', async () => {
    await a.services.apis.create({ identifier: 'https://short.example.com', scopes: ['x'], accessTokenTtl: 5 });
    await a.services.clients.update(cast.service.clientId, { allowedApis: [API, `${API}/opaque`, 'https://short.example.com'] });
    const { access_token: token } = await oidc.clientCredentialsGrant(service, { resource: 'https://short.example.com', scope: 'x' });
    expect((await oidc.tokenIntrospection(service, token)).active).to.equal(true);
    await clock.advance(6000); // past the token's 5 s lifetime
    expect((await oidc.tokenIntrospection(service, token)).active).to.equal(false);
  });

  it('authenticates clients with private_key_jwt', async () => {
    const { privateKey, jwk } = await clientSigningKey('service-key-1');
    const created = await keyHoldingService(a, 'Key-holding service', jwk);
    expect(created.secret).to.equal(undefined);
    const config = await relyingParty(deploy.issuer, created.client.clientId, undefined, oidc.PrivateKeyJwt({ key: privateKey, kid: 'service-key-1' }));
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'read' });
    expect(decodeJwt(tokens.access_token).client_id).to.equal(created.client.clientId);
  });

  it('answers CORS preflights only for a client\'s registered web origins', async () => {
    const spa = await a.services.clients.create({
      displayName: 'Browser app',
      webOrigins: ['https://spa.example.com'],
      metadata: { redirect_uris: ['https://spa.example.com/cb'], response_types: ['code'], grant_types: ['authorization_code'], token_endpoint_auth_method: 'none' },
    });
    const token = (origin: string) =>
      fetch(`${a.url}/token`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: spa.client.clientId, grant_type: 'authorization_code', code: 'x', code_verifier: 'y'.repeat(43), redirect_uri: 'https://spa.example.com/cb' }),
      });
    const allowed = await token('https://spa.example.com');
    expect(allowed.headers.get('access-control-allow-origin')).to.equal('https://spa.example.com');
    const denied = await token('https://evil.example.net');
    expect(denied.headers.get('access-control-allow-origin')).to.equal(null);
  });

  it('answers a wrong client secret with 401 invalid_client', async () => {
    const wrong = await relyingParty(deploy.issuer, cast.service.clientId, 'wrong-secret');
    expect(await oauthError(oidc.clientCredentialsGrant(wrong, { scope: 'read' }))).to.include({ error: 'invalid_client', status: 401 });
  });
});
