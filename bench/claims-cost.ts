/**
 * node bench/claims-cost.ts [--build name=path/to/dist ...] [--scope "openid profile email"] [--requests N] [--rounds N]
 *
 * What picking a userinfo answer's claims costs, in one process: the provider's Claims class made,
 * scoped, masked, rejected and read as userinfo's `respond` does it (lib/actions/userinfo.js), for
 * the library's own class (`library`) and for each build's (`src/oidc/scope-filters.ts`
 * `reuseScopeFilters` of that dist directory; default `now=dist`), over Gatehouse's claims
 * configuration (src/oidc/configuration.ts: SCOPE_CLAIMS with acr, amr and the Keycloak claims
 * on `openid`) and a Gatehouse-shaped account (src/oidc/accounts.ts `profileOf`). Rounds
 * alternate the classes; each prints the median CPU time per request of its rounds
 * (process.cpuUsage: all threads, the collector's included) and the bytes its V8 heap allocated
 * per request. A loaded machine moves every round alike; read the ratios.
 */
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import Provider from 'oidc-provider';
import { SCOPE_CLAIMS } from '../src/oidc/claims.ts';
import { KEYCLOAK_ID_TOKEN_CLAIMS } from '../src/oidc/keycloak-claims.ts';
import { usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({ options: { build: { type: 'string', multiple: true }, scope: { type: 'string' }, requests: { type: 'string' }, rounds: { type: 'string' } } });
const ROOT = new URL('..', import.meta.url).pathname;
const SCOPE = flags.scope ?? 'openid profile email';
const REQUESTS = Number(flags.requests ?? 50_000);
const ROUNDS = Number(flags.rounds ?? 9);

const CLAIMS = {
  ...Object.fromEntries(Object.entries(SCOPE_CLAIMS).map(([scope, claims]) => [scope, [...claims]])),
  openid: [...SCOPE_CLAIMS.openid, 'acr', 'amr', ...KEYCLOAK_ID_TOKEN_CLAIMS],
};
/** A user as profileOf makes them, with their sub (what `findAccount`'s `claims` hands userinfo). */
const ACCOUNT = Object.freeze({
  preferred_username: 'bench-user',
  roles: ['user'],
  groups: ['staff'],
  updated_at: 1_764_600_000,
  name: 'Bench User',
  given_name: 'Bench',
  family_name: 'User',
  email: 'bench-user@example.com',
  email_verified: true,
  sub: '6750a0f0c1d2e3f405060708',
});

function newProvider(): Provider {
  return new Provider('http://localhost:3000', {
    clients: [{ client_id: 'app', client_secret: 'secret', redirect_uris: ['http://localhost/cb'] }],
    claims: CLAIMS,
    scopes: ['openid', 'offline_access', ...Object.keys(CLAIMS).filter((scope) => scope !== 'openid')],
  });
}

interface Candidate { readonly name: string; readonly provider: Provider; readonly cpu: number[]; readonly bytes: number[] }
const candidates: Candidate[] = [{ name: 'library', provider: newProvider(), cpu: [], bytes: [] }];
for (const entry of flags.build ?? ['now=dist']) {
  const [name, dir] = entry.split('=') as [string, string];
  const { reuseScopeFilters } = (await import(`${dir.startsWith('/') ? dir : `${ROOT}${dir}`}/oidc/scope-filters.js`)) as { reuseScopeFilters: (provider: Provider) => unknown };
  const provider = newProvider();
  reuseScopeFilters(provider);
  candidates.push({ name, provider, cpu: [], bytes: [] });
}

/** userinfo's `respond`: `getCtxAccountClaims` spreads the account's claims, then the Claims class picks. */
async function run(provider: Provider, client: InstanceType<Provider['Client']>, requests: number): Promise<number> {
  let released = 0;
  for (let i = 0; i < requests; i += 1) {
    const claims = new provider.Claims({ ...ACCOUNT }, { client });
    claims.scope(SCOPE);
    claims.mask({});
    claims.rejected([]);
    released += Object.keys(await claims.result()).length;
  }
  return released;
}

const young = () => v8.getHeapSpaceStatistics().filter((space) => space.space_name === 'new_space' || space.space_name === 'new_large_object_space').reduce((sum, space) => sum + space.space_used_size, 0);
async function allocated(work: () => Promise<unknown>): Promise<number> {
  const profiler = new v8.GCProfiler();
  let last = young();
  profiler.start();
  await work();
  const end = young();
  let bytes = 0;
  for (const gc of profiler.stop()?.statistics ?? []) {
    const before = gc.beforeGC.heapSpaceStatistics.filter((space) => space.spaceName === 'new_space' || space.spaceName === 'new_large_object_space').reduce((sum, space) => sum + space.spaceUsedSize, 0);
    bytes += Math.max(0, before - last);
    last = gc.afterGC.heapSpaceStatistics.filter((space) => space.spaceName === 'new_space' || space.spaceName === 'new_large_object_space').reduce((sum, space) => sum + space.spaceUsedSize, 0);
  }
  return bytes + Math.max(0, end - last);
}

const clients = new Map<Candidate, InstanceType<Provider['Client']>>();
for (const candidate of candidates) clients.set(candidate, (await candidate.provider.Client.find('app'))!);
const released = new Set<number>();
// Warm-up: every class's path optimised before the first measured round.
for (const candidate of candidates) released.add(await run(candidate.provider, clients.get(candidate)!, REQUESTS));
if (released.size !== 1) throw new Error('the classes released different claims');
for (let round = 0; round < ROUNDS; round += 1) {
  for (const candidate of round % 2 === 0 ? candidates : [...candidates].reverse()) {
    const started = process.cpuUsage();
    candidate.cpu.push(0);
    const bytes = await allocated(() => run(candidate.provider, clients.get(candidate)!, REQUESTS));
    const used = process.cpuUsage(started);
    candidate.cpu[candidate.cpu.length - 1] = (used.user + used.system) / REQUESTS;
    candidate.bytes.push(bytes / REQUESTS);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const base = median(candidates[0]!.cpu);
process.stdout.write(`claims for scope "${SCOPE}", ${REQUESTS} requests × ${ROUNDS} rounds, load ${(await import('node:os')).loadavg()[0]!.toFixed(1)}\n`);
for (const candidate of candidates) {
  process.stdout.write(`${candidate.name.padEnd(10)} ${median(candidate.cpu).toFixed(3)} µs/req (rounds ${Math.min(...candidate.cpu).toFixed(3)}–${Math.max(...candidate.cpu).toFixed(3)}), ${Math.round(median(candidate.bytes))} B/req, library ÷ this ${(base / median(candidate.cpu)).toFixed(2)}\n`);
}
