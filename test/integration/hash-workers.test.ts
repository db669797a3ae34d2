import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { throwawayAuthorizationUrl } from '../helpers/e2e.ts';
import { testClock } from '../helpers/clock.ts';
import { startInstance } from '../helpers/instance.ts';
import { freePort } from '../helpers/redis-server.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

const REDIRECT = 'https://app.example.test/callback';
const PASSWORD = 'correct horse battery';

describe('password hashing workers of a running instance (started on demand, gone when idle)', () => {
  const database = databaseForSuite('hash_workers');
  // Frozen: an idle worker leaves when the test moves this clock past GATEHOUSE_HASH_IDLE_TIMEOUT (1 s), never on its own.
  const clock = testClock({ frozen: true });
  let gatehouse: RunningGatehouse;
  let clientId: string;

  const workers = async () => {
    const text = await (await fetch(`${gatehouse.url}/metrics`)).text();
    return Number(/^gatehouse_password_hash_workers (\d+)$/m.exec(text)?.[1]);
  };
  const authorizeUrl = () => throwawayAuthorizationUrl(gatehouse.url, clientId, REDIRECT);

  before(async () => {
    const port = await freePort();
    gatehouse = await startInstance({
      mongodbUri: database.uri,
      secret: randomSecret(),
      issuer: `http://127.0.0.1:${port}`,
      clock,
      settings: { PORT: String(port), GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1', GATEHOUSE_HASH_POOL_SIZE: '2', GATEHOUSE_HASH_IDLE_TIMEOUT: '1' },
    });
    const created = await gatehouse.services.clients.create({
      displayName: 'Worker Watcher',
      firstParty: true,
      metadata: { redirect_uris: [REDIRECT], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' },
    });
    clientId = created.client.clientId;
  });
  after(async () => {
    await gatehouse.close();
  });

  it('starts with no worker, warms one up for the sign-in form, and lets it go after GATEHOUSE_HASH_IDLE_TIMEOUT', async () => {
    expect(await workers(), 'nothing has been hashed yet').to.equal(0);
    await gatehouse.services.accounts.createUser({ username: 'walt', password: PASSWORD });
    expect(await workers(), 'creating a user hashed on one worker').to.equal(1);
    await clock.advance(999);
    expect(await workers(), 'kept until the idle timeout').to.equal(1);
    await clock.advance(1);
    expect(await workers(), 'gone once idle for GATEHOUSE_HASH_IDLE_TIMEOUT').to.equal(0);

    const agent = new UserAgent();
    let response = await agent.request(authorizeUrl());
    while (response.status === 303 || response.status === 302) response = await agent.request(new URL(response.headers.get('location')!, gatehouse.url).toString());
    expect(await response.text()).to.contain('name="password"');
    expect(await workers(), 'the sign-in form warmed up a worker for the password to come').to.equal(1);
    await clock.advance(1_000);
    expect(await workers(), 'an unused warm worker goes too').to.equal(0);

    const { callback, sawLogin } = await signIn(new UserAgent(), authorizeUrl(), REDIRECT, { username: 'walt', password: PASSWORD });
    expect(sawLogin).to.equal(true);
    expect(callback.searchParams.get('code'), 'a sign-in after the worker idled out still works').to.be.a('string');
  });
});
