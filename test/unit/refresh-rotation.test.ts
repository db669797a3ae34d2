import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { expect } from 'chai';
import Koa from 'koa';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { afterResponse } from '../../src/oidc/after-response.ts';
import { completeRefreshRotations as completionStep } from '../../src/oidc/refresh-rotation.ts';

/** The step as the provider runs it: folded with the other after-response steps, on the token route. */
const completeRefreshRotations = (...args: Parameters<typeof completionStep>) => afterResponse([completionStep(...args)]);

/** A real Koa context for a finished refresh response, as the provider leaves it after its handler. */
function refreshed(rotatedJti: string | undefined, successorJti?: string): KoaContextWithOIDC {
  const req = new IncomingMessage(new Socket());
  const ctx = new Koa().createContext(req, new ServerResponse(req)) as unknown as KoaContextWithOIDC;
  ctx.status = 200;
  ctx.body = { access_token: 'at', refresh_token: 'rt-new' };
  ctx.set('X-Request-Id', 'req-1');
  const entities = rotatedJti === undefined ? {} : { RotatedRefreshToken: { jti: rotatedJti }, ...(successorJti === undefined ? {} : { RefreshToken: { jti: successorJti } }) };
  (ctx as unknown as { oidc: unknown }).oidc = { entities };
  (ctx as unknown as { _matchedRouteName: string })._matchedRouteName = 'token';
  return ctx;
}

describe('refresh rotation completes with its response (src/oidc/refresh-rotation.ts)', () => {
  it('marks the rotated token once the response is ready, and only then', async () => {
    const marked: string[] = [];
    const middleware = completeRefreshRotations(async (id) => void marked.push(id));
    const ctx = refreshed('rt-old');
    await middleware(ctx, async () => {
      expect(marked, 'not before the handler ran').to.deep.equal([]);
    });
    expect(marked).to.deep.equal(['rt-old']);
    expect(ctx.status).to.equal(200);
    await middleware(refreshed(undefined), async () => {});
    expect(marked, 'nothing to mark without a rotation').to.have.length(1);
  });

  it('hands out no new tokens when the mark cannot be written: 503 in the one error shape, the client keeps its token', async () => {
    const middleware = completeRefreshRotations(async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { name: 'MongoNetworkError' });
    });
    const ctx = refreshed('rt-old');
    await middleware(ctx, async () => {});
    expect(ctx.status).to.equal(503);
    expect(ctx.response.get('Retry-After')).to.match(/^\d+$/);
    expect(ctx.response.get('Cache-Control')).to.equal('no-store');
    expect(ctx.body).to.deep.include({ error: 'temporarily_unavailable', request_id: 'req-1' });
    expect(JSON.stringify(ctx.body)).not.to.include('rt-new');
  });

  it('answers the storage\'s refusal (another rotation of the token completed first) instead of the new tokens', async () => {
    const middleware = completeRefreshRotations(async () => {
      throw new errors.InvalidGrant('RefreshToken already consumed');
    });
    const ctx = refreshed('rt-old');
    await middleware(ctx, async () => {});
    expect(ctx.status).to.equal(400);
    expect(ctx.response.get('Cache-Control')).to.equal('no-store');
    expect(ctx.body).to.deep.include({ error: 'invalid_grant', request_id: 'req-1' });
    expect(JSON.stringify(ctx.body)).not.to.include('rt-new');
  });

  it('abandons a rotation whose response failed: the old token (its claim goes back) and the held successor', async () => {
    const abandoned: Array<[string, string | undefined]> = [];
    const completed: string[] = [];
    const middleware = completeRefreshRotations(
      async (id) => void completed.push(id),
      async (id, successorId) => void abandoned.push([id, successorId]),
    );
    const ctx = refreshed('rt-old', 'rt-new');
    let thrown: unknown;
    await middleware(ctx, async () => {
      throw new Error('the access token could not be saved');
    }).catch((error: unknown) => (thrown = error));
    await new Promise((resolve) => setImmediate(resolve));
    expect(thrown).to.be.instanceOf(Error);
    expect(completed).to.deep.equal([]);
    expect(abandoned).to.deep.equal([['rt-old', 'rt-new']]);

    const failedStatus = refreshed('rt-other', 'rt-other-new');
    await middleware(failedStatus, async () => {
      failedStatus.status = 503;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(abandoned, 'a response other than 200').to.deep.equal([['rt-old', 'rt-new'], ['rt-other', 'rt-other-new']]);
  });

  it('announces the grant the storage revoked for a reused token as grant.revoked, the way the library announces its own', async () => {
    const emitted: Array<[string, unknown]> = [];
    const middleware = completeRefreshRotations(
      async () => {
        throw new errors.InvalidGrant('refresh token already used');
      },
      async () => {},
      () => 'grant-1',
    );
    const ctx = refreshed('rt-old');
    (ctx.oidc as unknown as { provider: unknown }).provider = { emit: (event: string, _ctx: unknown, grantId: unknown) => emitted.push([event, grantId]) };
    await middleware(ctx, async () => {});
    expect(ctx.status).to.equal(400);
    expect(emitted).to.deep.equal([['grant.revoked', 'grant-1']]);
    const quiet = refreshed('rt-old');
    (quiet.oidc as unknown as { provider: unknown }).provider = { emit: () => emitted.push(['unexpected', undefined]) };
    await completeRefreshRotations(async () => {})(quiet, async () => {});
    expect(emitted, 'nothing without a reuse').to.have.length(1);
  });

  it('lets other errors through to the provider\'s own handling', async () => {
    const middleware = completeRefreshRotations(async () => {
      throw new TypeError('a bug');
    });
    let thrown: unknown;
    await middleware(refreshed('rt-old'), async () => {}).catch((error: unknown) => (thrown = error));
    expect(thrown).to.be.instanceOf(TypeError);
  });
});
