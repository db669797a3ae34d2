import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { formsOf, UserAgent } from '../helpers/browserless.ts';
import { FAST_HASHING, seed } from '../helpers/e2e.ts';
import { startInstance } from '../helpers/instance.ts';
import { emptyDatabaseUri, randomSecret, recycleDatabase, serviceUrls } from '../helpers/stores.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

describe('behind a trusted proxy: a forged X-Forwarded-For does not dodge per-IP limits', () => {
  let mongodbUri: string;
  let gatehouse: RunningGatehouse;
  before(async () => {
    mongodbUri = emptyDatabaseUri('proxy_hops');
    gatehouse = await startInstance({
      mongodbUri,
      redisUrl: serviceUrls().redisUrl,
      secret: randomSecret(),
      settings: { ...FAST_HASHING, GATEHOUSE_TRUST_PROXY: 'true', GATEHOUSE_PROXY_HOPS: '1', GATEHOUSE_USER_CODE_FAILURE_LIMIT: '2', GATEHOUSE_REDIS_PREFIX: `gh-hops-${Date.now()}:` },
    });
  });
  after(async () => {
    await gatehouse.close();
    await recycleDatabase(mongodbUri);
  });

  it('counts wrong device codes by the address the proxy saw, whatever the client prepends', async () => {
    const agent = new UserAgent();
    const html = await (await agent.request(`${gatehouse.url}/device`)).text();
    const fields = formsOf(html)[0]!.fields;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await agent.request(`${gatehouse.url}/device`, {
        method: 'POST',
        // The client forges the left part; the proxy appends the real peer (203.0.113.7).
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `198.51.100.${i}, 203.0.113.7` },
        body: new URLSearchParams({ ...fields, user_code: 'BCDF-GHJK' }).toString(),
      });
      statuses.push(response.status);
      const body = await response.text();
      fields.xsrf = formsOf(body)[0]?.fields.xsrf ?? fields.xsrf!;
    }
    expect(statuses.slice(0, 2)).to.deep.equal([400, 400]);
    expect(statuses.at(-1)).to.equal(429);
  });

  it('the OAuth endpoints, handed straight to the provider, read the caller the same way: the last hop, not what the client prepends', async () => {
    const { service } = await seed(gatehouse);
    const requestId = `hops-${Date.now()}`;
    const response = await fetch(`${gatehouse.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: clientSecretBasic(service.clientId, service.secret),
        'x-forwarded-for': '198.51.100.9, 203.0.113.7',
        'x-request-id': requestId,
      },
      body: 'grant_type=client_credentials',
    });
    expect(response.status).to.equal(200);
    await response.arrayBuffer();
    await gatehouse.flushBatchedWrites();
    const { events } = await gatehouse.audit.query({ limit: 50 });
    const issued = events.find((event) => event.type === 'token.issued' && event.requestId === requestId);
    expect(issued, 'the token.issued event of that request').not.to.equal(undefined);
    expect(issued!.ip).to.equal('203.0.113.7');
  });
});

