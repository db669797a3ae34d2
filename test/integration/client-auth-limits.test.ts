import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { API, type Seeded } from '../helpers/e2e.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import type { TestRedis } from '../helpers/redis-server.ts';
import { startWithOwnRedis, type OwnRedisInstance } from '../helpers/own-redis.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

const LIMIT = 3;

function form(issuer: string, path: string, fields: Record<string, string>, basic?: { id: string; secret: string }): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic !== undefined) headers.authorization = clientSecretBasic(basic.id, basic.secret);
  return fetch(`${issuer}${path}`, { method: 'POST', headers, body: new URLSearchParams(fields).toString() });
}

async function postClient(gatehouse: RunningGatehouse, name: string): Promise<{ clientId: string; secret: string }> {
  const created = await gatehouse.services.clients.create({
    displayName: name,
    allowedApis: [API],
    metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post', default_api: API },
  });
  return { clientId: created.client.clientId, secret: created.secret! };
}

describe('client-authentication limits: (client, IP) keys and a per-instance fallback (test-owned Redis)', () => {
  const logs = captureLogs('info');
  let redis: TestRedis;
  let gatehouse: RunningGatehouse;
  let issuer: string;
  let cast: Seeded;
  let deployment: OwnRedisInstance;

  before(async () => {
    deployment = await startWithOwnRedis('client_auth_limits', { logger: logs.logger, settings: { GATEHOUSE_CLIENT_AUTH_FAILURE_LIMIT: String(LIMIT) } });
    ({ redis, gatehouse, issuer, cast } = deployment);
  });
  after(async () => {
    await deployment?.close();
  });

  it('counts failed client_secret_post authentication per client and IP: one client failing does not block another from the same address', async () => {
    const noisy = await postClient(gatehouse, 'Noisy');
    const quiet = await postClient(gatehouse, 'Quiet');
    for (let i = 0; i < LIMIT; i++) {
      const failed = await form(issuer, '/token', { grant_type: 'client_credentials', client_id: noisy.clientId, client_secret: 'wrong' });
      expect(failed.status).to.equal(401);
    }
    const blocked = await form(issuer, '/token', { grant_type: 'client_credentials', client_id: noisy.clientId, client_secret: noisy.secret });
    expect(blocked.status).to.equal(429);
    expect(blocked.headers.get('retry-after')).to.match(/^\d+$/);
    const other = await form(issuer, '/token', { grant_type: 'client_credentials', client_id: quiet.clientId, client_secret: quiet.secret });
    expect(other.status, await other.clone().text()).to.equal(200);
    expect(((await other.json()) as { access_token?: string }).access_token).to.be.a('string');
  });

  it('reads a chunked body (no Content-Length) ahead of the provider and still hands it over whole', async () => {
    const client = await postClient(gatehouse, 'Chunked');
    const text = new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret }).toString();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode(text);
        controller.enqueue(bytes.slice(0, 10));
        controller.enqueue(bytes.slice(10));
        controller.close();
      },
    });
    const response = await fetch(`${issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, duplex: 'half' } as RequestInit);
    expect(response.status, await response.clone().text()).to.equal(200);
  });

  it('keeps serving client_credentials while Redis is down, limiting failures per instance, and logs and counts it', async () => {
    await redis.stop();
    try {
      const issued = await form(issuer, '/token', { grant_type: 'client_credentials', resource: API, scope: 'read' }, { id: cast.service.clientId, secret: cast.service.secret });
      expect(issued.status, await issued.clone().text()).to.equal(200);
      for (let i = 0; i < LIMIT; i++) {
        const failed = await form(issuer, '/token', { grant_type: 'client_credentials' }, { id: cast.service.clientId, secret: 'wrong' });
        expect(failed.status).to.equal(401);
      }
      const blocked = await form(issuer, '/token', { grant_type: 'client_credentials' }, { id: cast.service.clientId, secret: cast.service.secret });
      expect(blocked.status, 'the fallback still enforces the limit').to.equal(429);
      const metric = await gatehouse.metrics.registry.getSingleMetricAsString('gatehouse_rate_limit_fallback_total');
      expect(metric).to.match(/gatehouse_rate_limit_fallback_total\{limiter="client_auth"\} [1-9]/);
      expect(logs.lines().some((line) => line.level === 'warn' && String(line.msg).includes('counting per instance'))).to.equal(true);
    } finally {
      await redis.start();
    }
  });
});
