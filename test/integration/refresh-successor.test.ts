import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { Connection } from 'mongoose';
import { connectMongo } from '../../src/storage/mongo.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, basicAuthTokenRequest, PASSWORD, REDIRECT_URI, relyingParty, type Seeded } from '../helpers/e2e.ts';
import { eventually } from '../helpers/poll.ts';
import type { TestRedis } from '../helpers/redis-server.ts';
import { startWithOwnRedis, type OwnRedisInstance } from '../helpers/own-redis.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

/**
 * A rotation's successor is written together with the mark on its predecessor, once the
 * response is ready (one command): a rotation whose response fails stores neither.
 */
describe('refresh-token successors are stored with the rotation that hands them out (test-owned Redis)', () => {
  let redis: TestRedis;
  let mongo: Connection;
  let issuer: string;
  let cast: Seeded;
  let deployment: OwnRedisInstance;

  before(async () => {
    deployment = await startWithOwnRedis('refresh_successor', { settings: { GATEHOUSE_REFRESH_REUSE_WINDOW: '0' } });
    ({ redis, issuer, cast } = deployment);
    mongo = await connectMongo({ uri: deployment.mongodbUri, timeoutMs: 5000 });
  });
  after(async () => {
    await mongo?.close();
    await deployment?.close();
  });

  const refresh = (token: string) => basicAuthTokenRequest(issuer, cast.web, { grant_type: 'refresh_token', refresh_token: token });
  const introspect = async (token: string) =>
    (await (
      await fetch(`${issuer}/token/introspection`, {
        method: 'POST',
        headers: {
          authorization: clientSecretBasic(cast.web.clientId, cast.web.secret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token, token_type_hint: 'refresh_token' }).toString(),
      })
    ).json()) as Record<string, unknown>;
  const tokens = { findOne: (filter: object) => mongo.db!.collection('oidc_refresh_token').findOne(filter) };
  const stored = () => mongo.db!.collection('oidc_refresh_token').countDocuments();

  async function newRefreshToken(): Promise<string> {
    const web = await relyingParty(issuer, cast.web.clientId, cast.web.secret);
    const request = await authorizationRequest(web, REDIRECT_URI, { scope: 'openid offline_access', prompt: 'consent' });
    const outcome = await signIn(new UserAgent(), request.url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    return (await oidc.authorizationCodeGrant(web, outcome.callback, request.checks)).refresh_token!;
  }

  it('stores no successor when the response fails, and the successor with the mark when it succeeds', async () => {
    const failing = await newRefreshToken();
    const before = await stored();
    // The new access token goes to Redis: with Redis gone the rotation fails after its successor was "saved".
    await redis.stop();
    try {
      expect((await refresh(failing)).status).to.equal(503);
    } finally {
      await redis.start();
    }
    // Back once the client has reconnected, on its own schedule: waited for as long as the test may.
    const ready = await eventually(async () => (await fetch(`${issuer}/readyz`)).status, (status) => status === 200);
    expect(ready, '/readyz once Redis is back').to.equal(200);
    expect(await stored(), 'the failed rotation left no successor behind').to.equal(before);
    expect(await tokens.findOne({ _id: failing as never }), 'nor marked the old token used').to.not.have.property('consumed');
    expect(await tokens.findOne({ _id: `rotated:${failing}` as never }), 'no rotation marker').to.equal(null);

    const working = await newRefreshToken();
    const rotated = await refresh(working);
    expect(rotated.status).to.equal(200);
    const { refresh_token: successor } = rotated.body as { refresh_token: string };
    expect(await tokens.findOne({ _id: successor as never }), 'the successor handed out is stored').to.not.equal(null);
    expect(await tokens.findOne({ _id: `rotated:${working}` as never }), 'the rotation marker, in the same insert').to.include({ successorId: successor });
    expect(await introspect(working), 'the rotated token introspects as inactive').to.deep.equal({ active: false });
    expect(await introspect(successor), 'its successor as active').to.include({ active: true });
    expect((await refresh(successor)).status, 'and it works').to.equal(200);
    expect(await introspect(successor), 'rotated in turn: inactive').to.deep.equal({ active: false });
  });
});
