import { expect } from 'chai';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa, { type Context } from 'koa';
import type Provider from 'oidc-provider';
import type { AdapterFactory, AdapterPayload } from 'oidc-provider';
import type { User } from '../../src/accounts/accounts.ts';
import { GatehouseError } from '../../src/errors/gatehouse-error.ts';
import { accountProfileApi } from '../../src/keycloak/account-profile.ts';

const NOW = 1_800_000_000_000;
const user = { id: 'u1', username: 'kc-user', email: null, emailVerified: false, givenName: 'Kay', familyName: null, attributes: { locale: 'en' }, disabled: false } as unknown as User;

function contextFor(headers: Record<string, string>, method = 'GET'): Context {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.url = '/realms/acme/account';
  req.headers = { host: 'localhost', ...headers };
  return new Koa().createContext(req, new ServerResponse(req));
}

function api(record: AdapterPayload | undefined, { grant = true, session = true } = {}) {
  const adapter = ((name: string) => ({
    find: async () => (name === 'Grant' && grant ? { accountId: 'u1', openid: { scope: 'openid profile email' } } : undefined),
    findByUid: async () => (session ? { uid: 's1' } : undefined),
  })) as unknown as AdapterFactory;
  return accountProfileApi({
    path: '/realms/acme/account',
    provider: () => ({ Client: { find: async () => ({ web_origins: ['https://app.example'] }) } }) as unknown as Provider,
    resolveToken: async () => record,
    adapter,
    accounts: { findById: async (id: string) => (id === 'u1' ? user : undefined) },
    now: () => NOW,
  });
}

const live: AdapterPayload = { kind: 'AccessToken', jti: 't1', exp: NOW / 1000 + 60, accountId: 'u1', clientId: 'spa', grantId: 'g1', sessionUid: 's1', expiresWithSession: true };
const bearer = { authorization: 'Bearer abc.def.ghi', accept: 'application/json', origin: 'https://app.example' };

async function refusal(record: AdapterPayload | undefined, options?: { grant?: boolean; session?: boolean }): Promise<GatehouseError> {
  try {
    await api(record, options)(contextFor(bearer), async () => {});
  } catch (error) {
    return error as GatehouseError;
  }
  throw new Error('not refused');
}

describe('Keycloak Account REST profile (loadUserProfile)', () => {
  it('answers the user as Keycloak does, readable by the client’s web origin', async () => {
    const ctx = contextFor(bearer);
    await api(live)(ctx, async () => {});
    expect(ctx.body).to.deep.equal({ id: 'u1', username: 'kc-user', emailVerified: false, firstName: 'Kay', attributes: { locale: ['en'] } });
    expect(ctx.response.get('Access-Control-Allow-Origin')).to.equal('https://app.example');
  });

  it('releases only what the user’s grant to the client releases, as userinfo does: openid alone gives the id, email gives no names', async () => {
    const withEmail = { ...user, email: 'kay@example.com', emailVerified: true } as unknown as User;
    const answer = async (scope: string) => {
      const ctx = contextFor(bearer);
      const handler = accountProfileApi({
        path: '/realms/acme/account',
        provider: () => ({ Client: { find: async () => ({ web_origins: [] }) } }) as unknown as Provider,
        resolveToken: async () => live,
        adapter: ((name: string) => ({ find: async () => (name === 'Grant' ? { accountId: 'u1', openid: { scope } } : undefined), findByUid: async () => ({ uid: 's1' }) })) as unknown as AdapterFactory,
        accounts: { findById: async () => withEmail },
        now: () => NOW,
      });
      await handler(ctx, async () => {});
      return ctx.body;
    };
    expect(await answer('openid')).to.deep.equal({ id: 'u1', attributes: {} });
    expect(await answer('openid email')).to.deep.equal({ id: 'u1', email: 'kay@example.com', emailVerified: true, attributes: {} });
    expect(await answer('openid profile')).to.deep.equal({ id: 'u1', username: 'kc-user', firstName: 'Kay', attributes: { locale: ['en'] } });
  });

  it('refuses an expired, unknown, grant-less or session-ended token, a refresh token and a missing token with 401 invalid_token', async () => {
    for (const [label, error] of [
      ['expired', await refusal({ ...live, exp: NOW / 1000 })],
      ['unknown or revoked', await refusal(undefined)],
      ['grant gone', await refusal(live, { grant: false })],
      ['session ended', await refusal(live, { session: false })],
      ['not an access token', await refusal({ ...live, kind: 'RefreshToken' })],
      ['sender-constrained', await refusal({ ...live, jkt: 'x' })],
    ] as const) {
      expect(error, label).to.be.instanceOf(GatehouseError);
      expect(error.status, label).to.equal(401);
      expect(error.code, label).to.equal('invalid_token');
      expect(error.headers['WWW-Authenticate'], label).to.match(/^Bearer error="invalid_token"/);
    }
    let missing: unknown;
    await api(live)(contextFor({ accept: 'application/json' }), async () => {}).catch((error: unknown) => (missing = error));
    expect((missing as GatehouseError).status).to.equal(401);
  });

  it('leaves a browser navigation (no token, HTML preferred) and other paths to the account page; answers a preflight', async () => {
    let passed = 0;
    await api(live)(contextFor({ accept: 'text/html' }), async () => void (passed += 1));
    const slash = contextFor(bearer);
    slash.path = '/realms/acme/account/';
    await api(live)(slash, async () => void (passed += 1));
    expect(passed).to.equal(2);
    const preflight = contextFor({ origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' }, 'OPTIONS');
    await api(live)(preflight, async () => {});
    expect(preflight.status).to.equal(204);
    expect(preflight.response.get('Access-Control-Allow-Headers')).to.include('Authorization');
  });
});
