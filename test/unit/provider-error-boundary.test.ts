import { expect } from 'chai';
import Provider, { errors, type AdapterFactory } from 'oidc-provider';
import { StoreUnavailableError } from '../../src/errors/store-unavailable.ts';
import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { routeLabel } from '../../src/http/route-label.ts';
import { afterResponseSteps } from '../../src/oidc/after-response.ts';
import { providerErrorBoundary } from '../../src/oidc/error-boundary.ts';
import { consumePushedRequestOnFirstUse } from '../../src/oidc/par-one-time.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { memoryAdapterFactory } from '../helpers/memory-adapter.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

async function serve(provider: Provider, path: string, headers: Record<string, string> = {}): Promise<Response> {
  const server = provider.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as { port: number };
    return await fetch(`http://127.0.0.1:${port}${path}`, { headers, redirect: 'manual' });
  } finally {
    server.close();
  }
}

describe("provider error boundary: what escapes the library's handlers", () => {
  it('answers JSON through the one mapper and logs the error as JSON with the request id', async () => {
    const logs = captureLogs('info');
    const provider = new Provider('http://localhost:3000', {});
    providerErrorBoundary(provider, logs.logger, undefined);
    provider.use(async (ctx, next) => {
      ctx.set('X-Request-Id', 'req-123');
      await next();
      throw new Error('session save failed after the response was built');
    });
    const response = await serve(provider, '/.well-known/openid-configuration', { accept: 'text/html' });
    expect(response.status).to.equal(500);
    expect(response.headers.get('content-type')).to.match(/^application\/json/);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).to.include({ error: 'server_error', request_id: 'req-123' });
    expect(JSON.stringify(body)).not.to.contain('session save failed');
    const line = logs.lines().find((entry) => entry.level === 'error');
    expect(line, logs.text()).to.include({ requestId: 'req-123' });
  });

  it('labels the request with the route that served it, answered or failed, for the request log', async () => {
    const provider = new Provider('http://localhost:3000', {});
    providerErrorBoundary(provider, captureLogs('info').logger, undefined);
    const seen: IncomingMessage[] = [];
    provider.use(async (ctx, next) => {
      seen.push(ctx.req);
      await next();
      if (ctx.path === '/jwks') throw new Error('fails after the route ran');
    });
    expect((await serve(provider, '/.well-known/openid-configuration')).status).to.equal(200);
    expect((await serve(provider, '/jwks')).status).to.equal(500);
    expect(seen.map((req) => routeLabel({ req } as Context))).to.deep.equal(['discovery', 'jwks']);
  });

  it('adds Retry-After to a 503 the library answered itself', async () => {
    const provider = new Provider('http://localhost:3000', {});
    providerErrorBoundary(provider, captureLogs('info').logger, undefined);
    provider.use((ctx) => {
      ctx.status = 503;
      ctx.body = { error: 'temporarily_unavailable' };
    });
    const response = await serve(provider, '/jwks');
    expect(response.status).to.equal(503);
    expect(response.headers.get('retry-after')).to.equal('5');
  });

  it('answers a store outage with 503 and Retry-After', async () => {
    const provider = new Provider('http://localhost:3000', {});
    providerErrorBoundary(provider, captureLogs('info').logger, undefined);
    provider.use(() => {
      throw new StoreUnavailableError('mongodb');
    });
    const response = await serve(provider, '/jwks');
    expect(response.status).to.equal(503);
    expect(response.headers.get('retry-after')).to.equal('5');
    expect(((await response.json()) as { error: string }).error).to.equal('temporarily_unavailable');
  });

  describe('with the after-response steps (run inside its own try, no middleware of their own)', () => {
    it("runs only the steps of the route that served the request, after the response was built, once", async () => {
      const ran: string[] = [];
      const provider = new Provider('http://localhost:3000', {});
      const steps = afterResponseSteps([
        { routes: ['jwks'], after: (ctx) => void ran.push(`jwks:${ctx.status}`) },
        { routes: ['discovery'], after: async () => void ran.push('discovery') },
      ]);
      providerErrorBoundary(provider, captureLogs('info').logger, undefined, steps);
      expect((await serve(provider, '/jwks')).status).to.equal(200);
      expect(ran).to.deep.equal(['jwks:200']);
      expect((await serve(provider, '/.well-known/openid-configuration')).status).to.equal(200);
      expect(ran).to.deep.equal(['jwks:200', 'discovery']);
    });

    it("answers a step's error through the one mapper (JSON, request id) and still labels the route", async () => {
      const logs = captureLogs('info');
      const provider = new Provider('http://localhost:3000', {});
      const steps = afterResponseSteps([
        {
          routes: ['discovery'],
          after: () => {
            throw new Error('a step failed after the library answered');
          },
        },
      ]);
      providerErrorBoundary(provider, logs.logger, undefined, steps);
      const seen: IncomingMessage[] = [];
      provider.use(async (ctx, next) => {
        seen.push(ctx.req);
        ctx.set('X-Request-Id', 'req-456');
        await next();
      });
      const response = await serve(provider, '/.well-known/openid-configuration');
      expect(response.status).to.equal(500);
      expect(response.headers.get('content-type')).to.match(/^application\/json/);
      expect((await response.json()) as Record<string, unknown>).to.include({ error: 'server_error', request_id: 'req-456' });
      expect(seen.map((req) => routeLabel({ req } as Context))).to.deep.equal(['discovery']);
    });

    it('runs the clean-ups when building the response failed, and the error still reaches the mapper (a store outage: 503)', async () => {
      const cleaned: string[] = [];
      const provider = new Provider('http://localhost:3000', {});
      const steps = afterResponseSteps([
        { routes: ['jwks'], after: () => void cleaned.push('after'), failed: () => void cleaned.push('failed') },
        { routes: ['jwks'], after: () => void cleaned.push('no clean-up: skipped') },
      ]);
      providerErrorBoundary(provider, captureLogs('info').logger, undefined, steps);
      provider.use(async (_ctx, next) => {
        await next();
        throw new StoreUnavailableError('mongodb');
      });
      const response = await serve(provider, '/jwks');
      expect(response.status).to.equal(503);
      expect(response.headers.get('retry-after')).to.equal('5');
      expect(cleaned).to.deep.equal(['failed']);
    });

    it('a 503 does not redirect: a store outage in a step after the library redirected drops its Location', async () => {
      const provider = new Provider('http://localhost:3000', {});
      providerErrorBoundary(provider, captureLogs('info').logger, undefined, afterResponseSteps([
        {
          routes: ['discovery'],
          after: (ctx) => {
            ctx.redirect('https://rp.example/cb?code=abc');
            throw new StoreUnavailableError('mongodb');
          },
        },
      ]));
      const response = await serve(provider, '/.well-known/openid-configuration');
      expect(response.status).to.equal(503);
      expect(response.headers.get('location')).to.equal(null);
      expect(((await response.json()) as { error: string }).error).to.equal('temporarily_unavailable');
    });

    it('/auth with a pushed request: the interaction cannot be saved again (store outage) → 503 without Location', async () => {
      // The library saves the interaction and answers 303 to it; consumePushedRequestOnFirstUse
      // then saves it again, and that second save meets the outage.
      const memory = memoryAdapterFactory();
      let interactionSaves = 0;
      const adapter = (model: string) => {
        const inner = memory(model);
        if (model !== 'Interaction') return inner;
        return Object.assign(Object.create(inner) as typeof inner, {
          upsert: (...args: Parameters<typeof inner.upsert>) => {
            interactionSaves += 1;
            return interactionSaves > 1 ? Promise.reject(new StoreUnavailableError('redis')) : inner.upsert(...args);
          },
        });
      };
      const par = await pushedRequest(adapter);
      try {
        const response = await par.authorize();
        expect(interactionSaves).to.equal(2);
        expect(response.status).to.equal(503);
        expect(response.headers.get('retry-after')).to.equal('5');
        expect(response.headers.get('location')).to.equal(null);
      } finally {
        par.close();
      }
    });

    /** A provider with PAR whose PushedAuthorizationRequest.consume fails with `failure()` while it returns an error; `authorize` sends one /auth with a fresh request_uri. */
    async function pushedRequests(failure: () => Error | undefined) {
      const memory = memoryAdapterFactory();
      const state = { consumes: 0 };
      const adapter = (model: string) => {
        const inner = memory(model);
        if (model !== 'PushedAuthorizationRequest') return inner;
        return Object.assign(Object.create(inner) as typeof inner, {
          consume: (id: string) => {
            state.consumes += 1;
            const error = failure();
            return error === undefined ? inner.consume(id) : Promise.reject(error);
          },
        });
      };
      return { state, ...(await pushedRequest(adapter)) };
    }

    /** A provider with PAR on `adapter` behind the boundary, one request pushed to it: `authorize` sends one /auth with its request_uri. */
    async function pushedRequest(adapter: AdapterFactory) {
      const provider = new Provider('http://localhost:3000', {
        adapter,
        clients: [{ client_id: 'rp', client_secret: 'a-secret-of-some-length', redirect_uris: ['https://rp.example/cb'] }],
        features: { pushedAuthorizationRequests: { enabled: true } },
      });
      providerErrorBoundary(provider, captureLogs('info').logger, undefined, afterResponseSteps([consumePushedRequestOnFirstUse]));
      const server = provider.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      try {
        const { port } = server.address() as { port: number };
        const pushed = await fetch(`http://127.0.0.1:${port}/request`, {
          method: 'POST',
          headers: { authorization: clientSecretBasic('rp', 'a-secret-of-some-length'), 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ response_type: 'code', scope: 'openid', redirect_uri: 'https://rp.example/cb', client_id: 'rp' }),
        });
        expect(pushed.status, await pushed.clone().text()).to.equal(201);
        const { request_uri } = (await pushed.json()) as { request_uri: string };
        return {
          authorize: () => fetch(`http://127.0.0.1:${port}/auth?${new URLSearchParams({ client_id: 'rp', request_uri })}`, { redirect: 'manual' }),
          close: () => server.close(),
        };
      } catch (error) {
        server.close();
        throw error;
      }
    }

    it('/auth with a pushed request whose consume meets a store outage → 503, and the request_uri is neither used up nor usable twice', async () => {
      // Not a lost race (another /auth used the request_uri first): the store did not answer, so
      // nothing is known about the request_uri. The answer is the outage's; the client's retry
      // after Retry-After starts the flow with the same request_uri, which is then one-time again.
      let outage = true;
      const par = await pushedRequests(() => (outage ? new StoreUnavailableError('redis') : undefined));
      try {
        const failed = await par.authorize();
        expect(par.state.consumes).to.equal(1);
        expect(failed.status, 'the outage, not a flow that goes on').to.equal(503);
        expect(failed.headers.get('retry-after')).to.equal('5');
        expect(failed.headers.get('location')).to.equal(null);

        outage = false;
        const retried = await par.authorize();
        expect(retried.status, 'the retry starts the flow').to.equal(303);
        expect(retried.headers.get('location')).to.match(/^\/interaction\//);
        expect(par.state.consumes).to.equal(2);

        const again = await par.authorize();
        expect(again.status).to.equal(303);
        expect(new URL(again.headers.get('location')!).searchParams.get('error'), 'one-time once consumed').to.equal('invalid_request_uri');
      } finally {
        par.close();
      }
    });

    it('/auth with a pushed request whose consume lost a race (the adapters\' invalid_request_uri) goes on to its interaction, which the library refuses at its end', async () => {
      const par = await pushedRequests(() => new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used'));
      try {
        const response = await par.authorize();
        expect(par.state.consumes).to.equal(1);
        expect(response.status).to.equal(303);
        expect(response.headers.get('location')).to.match(/^\/interaction\//);
      } finally {
        par.close();
      }
    });

    it('adds Retry-After to a 503 the library answered, after the steps ran', async () => {
      const provider = new Provider('http://localhost:3000', {});
      const order: string[] = [];
      const steps = afterResponseSteps([{ routes: ['jwks'], after: (ctx) => void order.push(`step saw retry-after: ${String(ctx.response.get('Retry-After') || 'none')}`) }]);
      providerErrorBoundary(provider, captureLogs('info').logger, undefined, steps);
      provider.use(async (ctx, next) => {
        await next();
        ctx.status = 503;
        ctx.body = { error: 'temporarily_unavailable' };
      });
      const response = await serve(provider, '/jwks');
      expect(response.status).to.equal(503);
      expect(response.headers.get('retry-after')).to.equal('5');
      expect(order).to.deep.equal(['step saw retry-after: none']);
    });
  });
});
