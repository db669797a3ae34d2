import { expect } from 'chai';
import Provider from 'oidc-provider';
import { StoreUnavailableError } from '../../src/errors/store-unavailable.ts';
import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { routeLabel } from '../../src/http/route-label.ts';
import { providerErrorBoundary } from '../../src/oidc/error-boundary.ts';
import { captureLogs } from '../helpers/log-capture.ts';

async function serve(provider: Provider, path: string, headers: Record<string, string> = {}): Promise<Response> {
  const server = provider.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as { port: number };
    return await fetch(`http://127.0.0.1:${port}${path}`, { headers });
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
});
