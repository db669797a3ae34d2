import { expect } from 'chai';
import * as oidc from 'openid-client';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, PASSWORD, REDIRECT_URI, relyingParty, type Seeded } from '../helpers/e2e.ts';
import { eventually } from '../helpers/poll.ts';
import type { TestRedis } from '../helpers/redis-server.ts';
import { startWithOwnRedis, type OwnRedisInstance } from '../helpers/own-redis.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

const WINDOW_SECONDS = 10;

function refresh(issuer: string, client: { clientId: string; secret: string }, token: string): Promise<Response> {
  return fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: clientSecretBasic(client.clientId, client.secret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
  });
}

describe('refresh with a store killed mid-rotation (test-owned Redis, storage clock moved past the reuse window)', () => {
  let redis: TestRedis;
  let issuer: string;
  let cast: Seeded;
  let clock = Date.now();
  let deployment: OwnRedisInstance;

  before(async () => {
    deployment = await startWithOwnRedis('refresh_outage', { clock: { now: () => clock }, settings: { GATEHOUSE_REFRESH_REUSE_WINDOW: String(WINDOW_SECONDS) } });
    ({ redis, issuer, cast } = deployment);
  });
  after(async () => {
    await deployment?.close();
  });

  async function refreshToken(): Promise<string> {
    const web = await relyingParty(issuer, cast.web.clientId, cast.web.secret);
    const request = await authorizationRequest(web, REDIRECT_URI, { scope: 'openid offline_access', prompt: 'consent' });
    const outcome = await signIn(new UserAgent(), request.url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    return (await oidc.authorizationCodeGrant(web, outcome.callback, request.checks)).refresh_token!;
  }

  it('keeps the grant when the new tokens could not be saved, and still revokes it on real reuse', async () => {
    const original = await refreshToken();
    // The refresh token lives in MongoDB, the new opaque access token in Redis: with Redis gone
    // the library consumes the old token and saves its successor, then fails on the access token.
    await redis.stop();
    try {
      const failed = await refresh(issuer, cast.web, original);
      expect(failed.status, await failed.clone().text()).to.equal(503);
      expect(failed.headers.get('content-type')).to.match(/json/);
    } finally {
      await redis.start();
    }
    // Back once the client has reconnected, on its own schedule: waited for as long as the test may.
    const ready = await eventually(async () => (await fetch(`${issuer}/readyz`)).status, (status) => status === 200);
    expect(ready, '/readyz once Redis is back').to.equal(200);
    clock += 10 * 60_000;

    const retried = await refresh(issuer, cast.web, original);
    expect(retried.status, `the retry long after the window is not reuse: ${await retried.clone().text()}`).to.equal(200);
    const { refresh_token: successor } = (await retried.json()) as { refresh_token: string };
    expect(successor).to.be.a('string').and.not.equal(original);

    clock += 10 * 60_000;
    const reused = await refresh(issuer, cast.web, original);
    expect(reused.status).to.equal(400);
    expect(((await reused.json()) as { error: string }).error).to.equal('invalid_grant');
    const afterReuse = await refresh(issuer, cast.web, successor);
    expect(afterReuse.status, 'real reuse revoked the grant, successor included').to.equal(400);
  });
});
