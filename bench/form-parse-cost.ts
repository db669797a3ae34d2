/**
 * node bench/form-parse-cost.ts [--requests N] [--rounds N]
 *
 * What parsing the forms read ahead of the provider costs, in one process: node:querystring's
 * `parse` (what src/http/form-body.ts used before perf24) against form-body's `parseForm`, on the
 * bench's own bodies — a client_credentials form and an introspection form carrying an RS256 JWT
 * (made here with the bench's key size and Gatehouse's claims) — rounds alternating. Prints each
 * one's median CPU time per parse (process.cpuUsage: all threads) and the bytes its V8 heap
 * allocated per parse. A loaded machine moves every round alike; read the ratios.
 */
import { generateKeyPairSync } from 'node:crypto';
import { parse as parseQuery } from 'node:querystring';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { SignJWT } from 'jose';
import { parseForm } from '../src/http/form-body.ts';
import { clientCredentialsRequest, form } from './lib/scenarios.ts';
import { usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({ options: { requests: { type: 'string' }, rounds: { type: 'string' } } });
const REQUESTS = Number(flags.requests ?? 100_000);
const ROUNDS = Number(flags.rounds ?? 9);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwt = await new SignJWT({ client_id: 'bench-rs256', scope: 'read', gty: 'client_credentials' })
  .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'k1GLHVIHqVNSAqAF1uvPdtNeosLZLqZbrRDNbytt_TY' })
  .setIssuer('http://127.0.0.1:43210')
  .setAudience('https://api.bench.example')
  .setSubject('bench-rs256')
  .setJti('mJ3sN5Q8m3nZVm6kzWg8tYbQ1c2v4pZkq0eL9xHh7aR')
  .setIssuedAt()
  .setExpirationTime('10m')
  .sign(privateKey);
const BODIES = { client_credentials: clientCredentialsRequest('-').body as string, introspection: form({ token: jwt }) };

const YOUNG = new Set(['new_space', 'new_large_object_space']);
const youngOf = (spaces: ReadonlyArray<{ spaceName: string; spaceUsedSize: number }>) => spaces.reduce((sum, space) => sum + (YOUNG.has(space.spaceName) ? space.spaceUsedSize : 0), 0);
const young = () => youngOf(v8.getHeapSpaceStatistics().map((space) => ({ spaceName: space.space_name, spaceUsedSize: space.space_used_size })));
/** Bytes the young generation took while `work` ran (what each collection found, plus what is there at the end). */
function allocated(work: () => void): number {
  const profiler = new v8.GCProfiler();
  let last = young();
  profiler.start();
  work();
  const end = young();
  let bytes = 0;
  for (const gc of profiler.stop()?.statistics ?? []) {
    bytes += Math.max(0, youngOf(gc.beforeGC.heapSpaceStatistics) - last);
    last = youngOf(gc.afterGC.heapSpaceStatistics);
  }
  return bytes + Math.max(0, end - last);
}
type Parser = (text: string) => unknown;
const parsers: Record<string, Parser> = { querystring: parseQuery, parseForm };
let sink: unknown;
for (const [name, body] of Object.entries(BODIES)) {
  const results = new Map<string, { cpu: number[]; bytes: number[] }>();
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [parser, parse] of Object.entries(parsers)) {
      const before = process.cpuUsage();
      const bytes = allocated(() => {
        for (let index = 0; index < REQUESTS; index += 1) sink = parse(body);
      });
      const used = process.cpuUsage(before);
      const entry = results.get(parser) ?? { cpu: [], bytes: [] };
      entry.cpu.push(((used.user + used.system) * 1000) / REQUESTS);
      entry.bytes.push(bytes / REQUESTS);
      results.set(parser, entry);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  process.stdout.write(`${name} (${body.length} characters):\n`);
  for (const [parser, { cpu, bytes }] of results) process.stdout.write(`  ${parser.padEnd(12)} ${(median(cpu) / 1000).toFixed(3)} µs  ${Math.round(median(bytes))} B per parse\n`);
}
void sink;
