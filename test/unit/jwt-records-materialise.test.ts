import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet } from 'jose';
import Koa from 'koa';
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';
import { CLIENT_CREDENTIALS_GTY, createJwtRecords, type JwtRecords } from '../../src/oidc/jwt-records.ts';
import { endpointPath, gatehouseRoutes } from '../../src/routes/table.ts';
import { JWT_REVOCATION_KIND } from '../../src/storage/oidc/models.ts';
import { memoryAdapterFactory } from '../helpers/memory-adapter.ts';

const PUBLIC_URL = 'http://localhost:3000';
const routes = gatehouseRoutes(PUBLIC_URL);
const issuer = PUBLIC_URL;

/** The shared store of two instances, counting each model's finds by id. */
function countingStore(): { adapter: AdapterFactory; finds: Map<string, number> } {
  const memory = memoryAdapterFactory();
  const finds = new Map<string, number>();
  const adapter: AdapterFactory = (model) => {
    if (model === 'Client') return { find: async () => ({ client_id: 'svc' }) } as unknown as Adapter;
    const inner = memory(model);
    return Object.assign(Object.create(inner) as Adapter, {
      find: (id: string) => {
        finds.set(`${model}:${id}`, (finds.get(`${model}:${id}`) ?? 0) + 1);
        return inner.find(id);
      },
    });
  };
  return { adapter, finds };
}

/** One Gatehouse instance's swap in front of a stand-in for the library: answers the token id it was handed. */
async function instance(records: JwtRecords, jwks: JSONWebKeySet): Promise<{ server: Server; introspect(token: string): Promise<string> }> {
  const app = new Koa();
  app.use(records.swapStructuredToken({ issuer, publicJwks: () => jwks, routes }));
  app.use(async (ctx) => {
    let body = '';
    for await (const chunk of ctx.req) body += String(chunk);
    ctx.body = new URLSearchParams(body).get('token') ?? '';
  });
  const server = createServer(app.callback()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${endpointPath(routes, 'introspection')}`;
  return {
    server,
    introspect: async (token) => {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString() });
      return response.text();
    },
  };
}

describe('client_credentials JWTs at introspection: the derived record (src/oidc/jwt-records.ts)', () => {
  const servers: Server[] = [];
  let token: string;
  let jwks: JSONWebKeySet;

  before(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
    token = await new SignJWT({ client_id: 'svc', gty: CLIENT_CREDENTIALS_GTY, scope: 'read', aud: 'https://api.example.test' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
      .setIssuer(issuer)
      .setJti(randomBytes(16).toString('base64url'))
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
  });

  after(() => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
  });

  it('looks for a tombstone only before it writes the record: a token introspected again costs no tombstone read', async () => {
    const store = countingStore();
    const a = await instance(createJwtRecords({ secret: 'a secret of this deployment', adapter: store.adapter }), jwks);
    servers.push(a.server);
    const id = await a.introspect(token);
    const reads = () => [...store.finds].filter(([key]) => key.startsWith('ClientCredentials:') && key !== `ClientCredentials:${id}`).reduce((sum, [, count]) => sum + count, 0);
    expect(reads(), 'the tombstone, before the record is written').to.equal(1);
    expect(await a.introspect(token)).to.equal(id);
    expect(await a.introspect(token)).to.equal(id);
    expect(reads(), 'no tombstone read for a record this instance wrote').to.equal(1);
  });

  it('never brings back the record of a token another instance revoked (its tombstone written, its record destroyed)', async () => {
    const store = countingStore();
    const secret = 'the secret both instances share';
    const a = await instance(createJwtRecords({ secret, adapter: store.adapter }), jwks);
    const c = await instance(createJwtRecords({ secret, adapter: store.adapter }), jwks);
    servers.push(a.server, c.server);
    const id = await a.introspect(token);
    const records = store.adapter('ClientCredentials');
    expect(await records.find(id), 'written at the first introspection').to.include({ kind: 'ClientCredentials', clientId: 'svc' });
    // The revocation on another instance: beforeRevocation's tombstone (keyed apart from the record), then the library's destroy.
    const tombstones = [...store.finds.keys()].filter((key) => key.startsWith('ClientCredentials:') && key !== `ClientCredentials:${id}`);
    expect(tombstones).to.have.length(1);
    const tombstone = tombstones[0]!.slice('ClientCredentials:'.length);
    await records.upsert(tombstone, { jti: tombstone, kind: JWT_REVOCATION_KIND, exp: Math.floor(Date.now() / 1000) + 3600 } as AdapterPayload, 3600);
    await records.destroy(id);

    // The instance that wrote it hands the library an id the library finds nothing under (the
    // destroyed record's): inactive.
    const handed = await a.introspect(token);
    expect(await records.find(handed)).to.equal(undefined);
    expect(await records.find(id), 'not written again').to.equal(undefined);
    // An instance that never wrote it reads the tombstone and hands the library an unknown id.
    const other = await c.introspect(token);
    expect(other).to.not.equal(id);
    expect(await records.find(id), 'not written again').to.equal(undefined);
    expect(await records.find(other)).to.equal(undefined);
  });
});
