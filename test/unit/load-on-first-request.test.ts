import { expect } from 'chai';
import type { Context, Middleware } from 'koa';
import { loadOnFirstRequest } from '../../src/http/load-on-first-request.ts';

const request = (path: string) => ({ path, state: {} as Record<string, unknown> }) as unknown as Context;

describe('loadOnFirstRequest (the admin API is built by its first request)', () => {
  const built: Middleware = async (ctx, next) => {
    ctx.state.servedBy = 'loaded';
    await next();
  };

  it('loads nothing for requests outside the prefix', async () => {
    let loads = 0;
    const middleware = loadOnFirstRequest('/admin/api/v1', async () => (loads++, built));
    for (const path of ['/token', '/admin', '/.well-known/openid-configuration']) {
      let passed = false;
      await middleware(request(path), async () => void (passed = true));
      expect(passed, path).to.equal(true);
    }
    expect(loads).to.equal(0);
  });

  it('loads once for concurrent first requests (any letter case) and hands every later request to what it built', async () => {
    let loads = 0;
    // The load finishes only when the test says so: both requests arrive while it is under way.
    let finishLoad = () => {};
    const loading = new Promise<void>((resolve) => (finishLoad = resolve));
    const middleware = loadOnFirstRequest('/admin/api/v1', async () => {
      loads++;
      await loading;
      return built;
    });
    const first = [request('/admin/api/v1/users'), request('/ADMIN/api/v1/clients')];
    const served = Promise.all(first.map((ctx) => middleware(ctx, async () => {})));
    expect(first.map((ctx) => ctx.state.servedBy), 'nothing served before the load finished').to.deep.equal([undefined, undefined]);
    finishLoad();
    await served;
    expect(loads).to.equal(1);
    expect(first.map((ctx) => ctx.state.servedBy)).to.deep.equal(['loaded', 'loaded']);
    const later = request('/token');
    await middleware(later, async () => {});
    expect(later.state.servedBy, 'once loaded, the built middleware decides for every path').to.equal('loaded');
  });

  it('retries a failed load with the next request', async () => {
    let loads = 0;
    const middleware = loadOnFirstRequest('/admin/api/v1', async () => {
      loads++;
      if (loads === 1) throw new Error('module failed to load');
      return built;
    });
    let failure: unknown;
    await middleware(request('/admin/api/v1/users'), async () => {}).catch((error: unknown) => (failure = error));
    expect((failure as Error).message).to.equal('module failed to load');
    const retried = request('/admin/api/v1/users');
    await middleware(retried, async () => {});
    expect(retried.state.servedBy).to.equal('loaded');
    expect(loads).to.equal(2);
  });
});
