/**
 * node bench/structured-token-check-cost.ts [--requests N] [--rounds N] [--connections N]
 *
 * What the library's structured-token check (lib/shared/reject_structured_tokens.js: jose's
 * decodeProtectedHeader, which throws and is caught for every opaque token) costs an
 * introspection, against Gatehouse's step in its place (src/oidc/opaque-token-check.ts), A/B in
 * one process: two bare oidc-providers with the in-memory adapter (as the bench's reference), one
 * built before the check is replaced (`library`) and one after (`gatehouse`), each introspecting
 * an opaque ClientCredentials token over keep-alive HTTP from the same process. Rounds alternate
 * the two; each prints the median CPU time per request of its rounds (process.cpuUsage: the load
 * generator's share is the same in both, so the difference is the check); `--same-check` builds both with Gatehouse's step (an A/A: what the
 * rounds resolve). A loaded machine moves every round alike; read the difference.
 */
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';
import { checkOnlyJwtShapedTokensForStructure } from '../src/oidc/opaque-token-check.ts';
import { usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({ options: { requests: { type: 'string' }, rounds: { type: 'string' }, connections: { type: 'string' }, 'same-check': { type: 'boolean' } } });
const REQUESTS = Number(flags.requests ?? 4_000);
const ROUNDS = Number(flags.rounds ?? 9);
const CONNECTIONS = Number(flags.connections ?? 8);
const AUTHORIZATION = `Basic ${Buffer.from('svc:svc-secret-0123456789').toString('base64')}`;

async function serve(): Promise<{ url: URL; body: string; close(): void }> {
  const provider = new Provider('http://127.0.0.1', {
    clients: [{ client_id: 'svc', client_secret: 'svc-secret-0123456789', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }],
    features: { clientCredentials: { enabled: true }, introspection: { enabled: true }, devInteractions: { enabled: false } },
  });
  const client = await provider.Client.find('svc');
  const token = await new provider.ClientCredentials({ client: client!, scope: '' }).save();
  const server = provider.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: new URL(`http://127.0.0.1:${port}/token/introspection`), body: `token=${token}&token_type_hint=access_token`, close: () => server.close() };
}

const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });

function post(url: URL, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { authorization: AUTHORIZATION, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function load(target: { url: URL; body: string }, requests: number): Promise<void> {
  let left = requests;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (left-- > 0) await post(target.url, target.body);
    }),
  );
}

// Built before the library's check is replaced: the library's router keeps its own check
// (with --same-check both servers get Gatehouse's: an A/A that shows what the rounds resolve).
if (flags['same-check'] === true) checkOnlyJwtShapedTokensForStructure();
const library = await serve();
checkOnlyJwtShapedTokensForStructure();
const gatehouse = await serve();
const answer = await post(gatehouse.url, gatehouse.body);
if (!answer.includes('"active":true')) throw new Error(`the token is not active: ${answer}`);
const targets = { library, gatehouse };
for (const target of Object.values(targets)) await load(target, 1_000);

const cpu: Record<string, number[]> = { library: [], gatehouse: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? (['library', 'gatehouse'] as const) : (['gatehouse', 'library'] as const);
  for (const name of order) {
    const before = process.cpuUsage();
    await load(targets[name], REQUESTS);
    const used = process.cpuUsage(before);
    cpu[name]!.push((used.user + used.system) / REQUESTS);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const name of ['library', 'gatehouse'] as const) {
  console.log(`${name.padEnd(9)}  CPU ${median(cpu[name]!).toFixed(1)} µs/req (median of ${ROUNDS} rounds of ${REQUESTS}; client and server in one process)`);
}
console.log(`difference: ${(median(cpu.library!) - median(cpu.gatehouse!)).toFixed(1)} µs/req`);
library.close();
gatehouse.close();
agent.destroy();
