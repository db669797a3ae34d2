import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet } from 'jose';
import type { Adapter, AdapterFactory, AdapterPayload, KoaContextWithOIDC } from 'oidc-provider';
import { CLIENT_CREDENTIALS_GTY, createJwtRecords, type JwtRecords } from '../../src/oidc/jwt-records.ts';
import { JWT_REVOCATION_KIND } from '../../src/storage/oidc/models.ts';
import { memoryAdapterFactory } from '../helpers/memory-adapter.ts';

const PUBLIC_URL = 'http://localhost:3000';
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

/** One Gatehouse instance's swap, in the library's action (as the library hands it the assembled params): answers the token id it handed on. */
function instance(records: JwtRecords, jwks: JSONWebKeySet): { introspect(token: string): Promise<string> } {
  const swap = records.structuredTokenSwap({ issuer, publicJwks: () => jwks });
  return {
    introspect: async (token) => {
      const ctx = { oidc: { params: { token, token_type_hint: undefined }, route: 'introspection' }, req: {} } as unknown as KoaContextWithOIDC;
      let handed: unknown;
      await swap(ctx, async () => {
        handed = ctx.oidc.params!.token;
      });
      return String(handed);
    },
  };
}

describe('client_credentials JWTs at introspection: the derived record (src/oidc/jwt-records.ts)', () => {
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

  it('looks for a tombstone only before it writes the record: a token introspected again costs no tombstone read', async () => {
    const store = countingStore();
    const a = instance(createJwtRecords({ secret: 'a secret of this deployment', adapter: store.adapter }), jwks);
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
    const a = instance(createJwtRecords({ secret, adapter: store.adapter }), jwks);
    const c = instance(createJwtRecords({ secret, adapter: store.adapter }), jwks);
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
