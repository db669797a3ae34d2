import { expect } from 'chai';
import { runDoctor, type Check, type TemporaryClient } from '../../src/doctor/checks.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { runCli } from '../helpers/process.ts';
import { freePort } from '../helpers/redis-server.ts';
import { startInstance } from '../helpers/instance.ts';
import { databaseForSuite, randomSecret, serviceUrls } from '../helpers/stores.ts';

const byName = (checks: readonly Check[]) => Object.fromEntries(checks.map((check) => [check.name, check]));

describe('gatehouse doctor ISSUER (a running deployment checked from the outside)', function () {
  this.timeout(120_000);
  const database = databaseForSuite('cli_doctor');
  const secret = randomSecret();
  let gatehouse: RunningGatehouse;
  let issuer: string;
  let env: Record<string, string>;

  before(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    const { redisUrl } = serviceUrls();
    env = { NODE_ENV: 'test', MONGODB_URI: database.uri, REDIS_URL: redisUrl, GATEHOUSE_SECRET: secret, GATEHOUSE_ISSUER: issuer };
    gatehouse = await startInstance({ mongodbUri: database.uri, redisUrl, secret, issuer, settings: { PORT: String(port) } });
  });
  after(async () => {
    await gatehouse?.close();
  });

  it('passes every check with the deployment\'s settings, and leaves no temporary client or API behind', async () => {
    const result = await runCli(['doctor', issuer, '--json'], env);
    expect(result.code, result.stderr + result.stdout).to.equal(0);
    const report = JSON.parse(result.stdout) as { issuer: string; ok: boolean; checks: Check[] };
    expect(report.ok).to.equal(true);
    const checks = byName(report.checks);
    for (const name of ['discovery', 'keys', 'readiness', 'token', 'signature', 'introspection', 'revocation']) {
      expect(checks[name]?.status, `${name}: ${JSON.stringify(checks[name])}`).to.equal('ok');
    }
    const clients = await gatehouse.services.clients.list();
    expect(clients.map((client) => client.displayName).join(' ')).to.not.include('doctor');
    const apis = await gatehouse.services.apis.list();
    expect(apis.map((api) => api.identifier).join(' ')).to.not.include('doctor');
  });

  it('without the deployment\'s settings: the outside checks run, the token flow is skipped and says why', async () => {
    const result = await runCli(['doctor', issuer], { NODE_ENV: 'production' });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/ok +discovery/).and.match(/skipped +token flow +skipped: a temporary client needs the deployment's settings/);
  });

  it('an address that is not an http(s) URL is a usage error that says what to type, not an unexpected error', async () => {
    const settings = { NODE_ENV: 'test', MONGODB_URI: database.uri, GATEHOUSE_SECRET: randomSecret() };
    const bare = await runCli(['doctor', 'localhost:3000'], settings);
    expect(bare.code).to.equal(2);
    expect(bare.stderr).to.equal("gatehouse: doctor: ISSUER_URL must be an http:// or https:// URL, e.g. https://sso.example.com (got 'localhost:3000'; did you mean http://localhost:3000?)\n");
    const other = await runCli(['doctor', 'ftp://sso.example.com'], { NODE_ENV: 'production' });
    expect(other.code).to.equal(2);
    expect(other.stderr).to.equal("gatehouse: doctor: ISSUER_URL must be an http:// or https:// URL, e.g. https://sso.example.com (got 'ftp://sso.example.com')\n");
  });

  it('names a wrong issuer URL and what to do about it', async () => {
    const checks = byName(await runDoctor({ issuer: `${issuer}/realms/nope`, fetch }));
    expect(checks.discovery?.status).to.equal('fail');
    expect(checks.discovery?.detail).to.include('answered 404');
    const down = byName(await runDoctor({ issuer: 'http://127.0.0.1:9', fetch }));
    expect(down.discovery?.detail).to.include('no answer from http://127.0.0.1:9/.well-known/openid-configuration');
  });

  it('explains a client the server does not know (the CLI on another database) and still removes it', async () => {
    let removed = false;
    const stranger: TemporaryClient = { clientId: 'not-in-this-database', secret: 'x', api: 'https://nothing.example', scope: 'doctor' };
    const checks = byName(await runDoctor({ issuer, fetch, temporaryClient: { create: async () => stranger, remove: async () => void (removed = true) } }));
    expect(checks.token?.status).to.equal('fail');
    expect(checks.token?.detail).to.include('invalid_client').and.include('different databases (MONGODB_URI) or a different GATEHOUSE_SECRET');
    expect(removed).to.equal(true);
  });

  it('explains a token signed with a key the JWKS does not publish', async () => {
    // What a proxy serving a stale /jwks looks like: every key there is another one.
    const stale = await fetch(`${issuer}/jwks`).then((response) => response.json() as Promise<{ keys: Array<Record<string, unknown>> }>);
    const fetchWithStaleKeys: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.endsWith('/jwks')) return Response.json({ keys: stale.keys.map((key) => ({ ...key, kid: `old-${String(key.kid)}` })) });
      return fetch(input, init);
    };
    const { clientOperations } = await import('../../src/operations/clients.ts');
    const api = `https://doctor-test-${Date.now()}.example`;
    await gatehouse.services.apis.create({ identifier: api, scopes: ['doctor'] });
    const created = await clientOperations(gatehouse.services).create({ actor: { type: 'system', id: 'test' } }, { name: 'doctor test', grant_types: ['client_credentials'], apis: [api] });
    const checks = byName(
      await runDoctor({
        issuer,
        fetch: fetchWithStaleKeys,
        temporaryClient: { create: async () => ({ clientId: created.client.clientId, secret: created.secret!, api, scope: 'doctor' }), remove: async () => undefined },
      }),
    );
    expect(checks.token?.status).to.equal('ok');
    expect(checks.signature?.status).to.equal('fail');
    expect(checks.signature?.detail).to.include('signed with a key that is not published');
  });
});
