/**
 * node bench/response-heads.ts [--scenario userinfo] [--build path/to/main.js]
 *
 * The raw response a scenario's request gets — status line, every header as sent, the body's
 * length — from the production build and from the library's in-memory reference
 * (bench/reference-server.ts), side by side, with the bytes each head takes. What a response
 * carries beyond the reference's is what Node's `_storeHeader` and the `write` system call pay
 * for on every request (docs/PERFORMANCE.md, perf21u). Needs `npm run build` first.
 */
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import { startGatehouseProcess, startReference, type Child } from './lib/children.ts';
import { scenarioRequest, TOKEN_SCENARIOS, type TokenScenario } from './lib/scenarios.ts';
import { seed } from './lib/seed.ts';
import { benchServices, benchServicesUp, freePort } from './lib/services.ts';
import { gatehouseStoreSettings, openStores, resetStores } from './lib/storage.ts';
import { usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({ options: { scenario: { type: 'string' }, build: { type: 'string' } } });
const scenario = (flags.scenario ?? 'userinfo') as TokenScenario;
if (!TOKEN_SCENARIOS.includes(scenario) || scenario === 'refresh') throw new Error(`--scenario must be one of ${TOKEN_SCENARIOS.filter((name) => name !== 'refresh').join(', ')}`);
const ROOT = new URL('..', import.meta.url).pathname;

/** One request, read as sent: the raw header lines in order (Node keeps them in rawHeaders). */
function rawResponse(url: string, spec: { method: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ head: string; bodyBytes: number }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(new URL(spec.path, url), { method: spec.method, headers: spec.headers ?? {} }, (response) => {
      const lines = [`HTTP/${response.httpVersion} ${response.statusCode} ${response.statusMessage}`];
      for (let index = 0; index < response.rawHeaders.length; index += 2) lines.push(`${response.rawHeaders[index]}: ${response.rawHeaders[index + 1]}`);
      let bodyBytes = 0;
      response.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
      response.on('end', () => resolve({ head: `${lines.join('\r\n')}\r\n\r\n`, bodyBytes }));
    });
    outgoing.on('error', reject);
    outgoing.end(spec.body);
  });
}

const services = benchServicesUp('gatehouse_heads');
const stores = await openStores(services.mongodbUri, services.redisUrl);
const prefix = 'gatehouse-heads:';
await resetStores(stores, prefix);
const settings = gatehouseStoreSettings(services.mongodbUri, services.redisUrl, prefix);
const fixture = await seed({ settings, users: 2, storageUsers: 0, cheapHashSettings: { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1' } });
const children: Child[] = [];
try {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const build = flags.build === undefined ? `${ROOT}dist/main.js` : flags.build;
  const env = { ...settings, NODE_ENV: 'production', GATEHOUSE_ISSUER: url, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'warn' };
  children.push(await startGatehouseProcess('gatehouse', [build], env, url));
  const fixturePath = `${ROOT}.data/bench/heads-fixture.json`;
  writeFileSync(fixturePath, JSON.stringify(fixture), { mode: 0o600 });
  const reference = await startReference(fixturePath);
  children.push(reference);
  for (const child of children) {
    const spec = await scenarioRequest(scenario, { url: child.url, fixture, refreshTokens: 0, reference: child.name === 'reference' });
    const { head, bodyBytes } = await rawResponse(child.url, spec as never);
    process.stdout.write(`== ${child.name}: ${scenario}, head ${Buffer.byteLength(head)} bytes, body ${bodyBytes} bytes\n${head.replace(/\r\n/g, '\n')}`);
  }
} finally {
  for (const child of children) await child.stop();
  await resetStores(stores, prefix);
  await stores.close();
  benchServices('down');
}
