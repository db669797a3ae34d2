import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { formsOf, UserAgent } from '../helpers/browserless.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { runCli } from '../helpers/process.ts';
import { freePort } from '../helpers/redis-server.ts';

const REDIRECT = 'https://app.example.com/cb';
/** The realm export with its Corp SSO provider shown on the login page (the export hides it). */
function realmWithShownProvider(): unknown {
  const realm = JSON.parse(readFileSync(new URL('../fixtures/keycloak/realm-export-idps.json', import.meta.url), 'utf8')) as { identityProviders: Array<Record<string, unknown>> };
  for (const provider of realm.identityProviders) if (provider.alias === 'corp-keycloak') provider.hideOnLogin = false;
  return realm;
}

/** The sign-in page of a fresh authorization request on one instance. */
async function signInPage(instance: RunningGatehouse, clientId: string): Promise<{ agent: UserAgent; url: string; html: string }> {
  const agent = new UserAgent();
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'openid',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  });
  const started = await agent.request(`${instance.url}/auth?${query}`);
  expect(started.status, 'the authorization request goes to the sign-in').to.equal(303);
  const url = new URL(started.headers.get('location')!, instance.url).toString();
  const page = await agent.request(url);
  expect(page.status).to.equal(200);
  return { agent, url, html: await page.text() };
}

/** The aliases of the "Continue with …" buttons on a sign-in page. */
const buttons = (html: string) => [...html.matchAll(/data-provider="([^"]+)"/g)].map((match) => match[1]!);

/** Posts an email login on a fresh sign-in page of `instance`; the page that answers. */
async function emailLogin(instance: RunningGatehouse, clientId: string, login: string): Promise<string> {
  const { agent, url, html } = await signInPage(instance, clientId);
  const form = formsOf(html).find((candidate) => candidate.action.endsWith('/login'));
  expect(form, 'sign-in form').to.not.equal(undefined);
  const answer = await agent.postForm(new URL(form!.action, url).toString(), { ...form!.fields, login, password: PASSWORD });
  return answer.text();
}

interface Cluster {
  readonly deploy: Deployment;
  readonly a: RunningGatehouse;
  readonly b: RunningGatehouse;
  readonly clientId: string;
  readonly api: (method: string, path: string, body?: unknown) => ReturnType<typeof callAdmin>;
}

async function cluster(label: string, options: { redis: boolean; clock: TestClock }): Promise<Cluster> {
  const deploy = await deployment(label, { redis: options.redis, clock: options.clock });
  const a = await deploy.start();
  const b = await deploy.start(await freePort());
  const { client } = await a.services.clients.create({
    displayName: 'Notes',
    firstParty: true,
    metadata: { redirect_uris: [REDIRECT], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none', scope: 'openid' },
  });
  const ops = await adminClient(a, `upstream-list-${label}`);
  return { deploy, a, b, clientId: client.clientId, api: async (method, path, body) => callAdmin(a.url, await ops.token(), method, path, body) };
}

async function stop(found: Cluster | undefined): Promise<void> {
  await found?.b.close();
  await found?.a.close();
  await found?.deploy.drop();
}

const ACME = { alias: 'acme', kind: 'oidc', display_name: 'Acme SSO', issuer: 'https://idp.acme.test', client_id: 'gatehouse', client_secret: 'acme-secret' };

/**
 * The sign-in page lists the upstream providers from a per-instance copy (src/upstream/provider-list.ts);
 * an operator's change must reach every instance's page promptly all the same.
 */
describe('upstream providers on the sign-in page follow changes made on another instance', function () {
  this.timeout(120_000);

  describe('two instances sharing MongoDB and Redis', () => {
    // Frozen: no copy can expire during the test, so only the Redis notice can explain a change on B.
    const clock = testClock({ frozen: true });
    let c: Cluster;
    before(async () => {
      c = await cluster('upstream_list_redis', { redis: true, clock });
    });
    after(() => stop(c));

    it('created, disabled and home-domained through the admin API, re-enabled through the CLI, deleted: B\'s page follows each change', async () => {
      expect(buttons((await signInPage(c.b, c.clientId)).html), 'B has read (and keeps) the empty list').to.deep.equal([]);

      expect((await c.api('POST', '/upstream-providers', ACME)).status).to.equal(201);
      await within(NOTICE_MS, async () => buttons((await signInPage(c.b, c.clientId)).html).includes('acme'));

      expect((await c.api('PATCH', '/upstream-providers/acme', { enabled: false })).status).to.equal(200);
      await within(NOTICE_MS, async () => buttons((await signInPage(c.b, c.clientId)).html).length === 0);

      const env = { NODE_ENV: 'test', MONGODB_URI: c.deploy.mongodbUri, REDIS_URL: c.deploy.redisUrl!, GATEHOUSE_SECRET: c.deploy.secret, GATEHOUSE_REDIS_PREFIX: c.deploy.settings.GATEHOUSE_REDIS_PREFIX! };
      const enabled = await runCli(['idps', 'update', 'acme', '--enabled'], env);
      expect(enabled.code, enabled.stderr).to.equal(0);
      await within(NOTICE_MS, async () => buttons((await signInPage(c.b, c.clientId)).html).includes('acme'));

      // Home-domain routing on B (a password POST whose login is an email) uses the same copy.
      expect(await emailLogin(c.b, c.clientId, 'rae@acme.test'), 'no home domain yet: an ordinary failed sign-in').to.not.include('/upstream/acme?login_hint=');
      expect((await c.api('PATCH', '/upstream-providers/acme', { home_domains: ['acme.test'] })).status).to.equal(200);
      await within(NOTICE_MS, async () => (await emailLogin(c.b, c.clientId, 'rae@acme.test')).includes('/upstream/acme?login_hint=rae%40acme.test'));

      expect((await c.api('DELETE', '/upstream-providers/acme')).status).to.equal(204);
      await within(NOTICE_MS, async () => buttons((await signInPage(c.b, c.clientId)).html).length === 0);
    });

    it('a Keycloak import on A shows its enabled providers on B', async () => {
      expect(buttons((await signInPage(c.b, c.clientId)).html)).to.deep.equal([]);
      const imported = await c.api('POST', '/import/keycloak', realmWithShownProvider());
      expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
      await within(NOTICE_MS, async () => buttons((await signInPage(c.b, c.clientId)).html).includes('corp-keycloak'));
      // Disabled on import (no secret in the export): not shown.
      expect(buttons((await signInPage(c.b, c.clientId)).html)).to.not.include('google');
    });
  });

  describe('two instances without Redis', () => {
    const clock = testClock({ frozen: true });
    let c: Cluster;
    before(async () => {
      c = await cluster('upstream_list_noredis', { redis: false, clock });
    });
    after(() => stop(c));

    it('the instance that wrote shows a change at once; the other within a second (on its clock)', async () => {
      expect(buttons((await signInPage(c.b, c.clientId)).html)).to.deep.equal([]);
      expect((await c.api('POST', '/upstream-providers', ACME)).status).to.equal(201);
      expect(buttons((await signInPage(c.a, c.clientId)).html), 'A dropped its copy when it wrote').to.deep.equal(['acme']);
      expect(buttons((await signInPage(c.b, c.clientId)).html), 'B still has its copy').to.deep.equal([]);
      await clock.advance(1000);
      expect(buttons((await signInPage(c.b, c.clientId)).html)).to.deep.equal(['acme']);
    });
  });
});
