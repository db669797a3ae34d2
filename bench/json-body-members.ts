/**
 * node bench/json-body-members.ts [--rounds N]
 *
 * What refusing duplicate members costs an admin API body (src/admin/json-body.ts readJson):
 * JSON.parse alone against JSON.parse + lostMembers (a walk of the parsed value and a scan of
 * the text, src/json/members.ts), in CPU time of this thread per body, for bodies the
 * admin API takes: a small client create (~250 B), a settings change (~60 B), a client with
 * many redirect URIs (~4 KiB) and one near the 64 KiB limit. Each variant runs in turn, --rounds
 * times (5 by default); each figure is the median of its rounds. CPU time, not wall time: the
 * machine is shared. Never asserts timings.
 */
import { parseArgs } from 'node:util';
import { lostMembers } from '../src/json/members.ts';

const { values: flags } = parseArgs({ options: { rounds: { type: 'string' } } });
const ROUNDS = Number(flags.rounds ?? 5);

const uris = (n: number) => Array.from({ length: n }, (_, i) => `https://app-${i}.example.com/callback?tenant=t${i}:x`);
const BODIES: Record<string, string> = {
  'settings change (~60 B)': JSON.stringify({ otp_digits: 8, otp_period: 60, otp_algorithm: 'SHA256' }),
  'client create (~250 B)': JSON.stringify({ name: 'Orders portal', type: 'confidential', redirect_uris: uris(2), grant_types: ['authorization_code', 'refresh_token'], scope: 'openid profile email' }),
  'client, 80 URIs (~4 KiB)': JSON.stringify({ name: 'Many', redirect_uris: uris(40), post_logout_redirect_uris: uris(40), scope: 'openid' }),
  'users patch (~60 KiB)': JSON.stringify({ items: Array.from({ length: 500 }, (_, i) => ({ username: `user-${i}`, email: `user-${i}@example.com`, given_name: 'Given', family_name: 'Family', roles: ['a', 'b'] })) }),
};

function cpuNsPerBody(body: string, check: boolean): number {
  // Enough bodies for ~50 ms of work.
  const n = Math.max(200, Math.round(2_000_000 / body.length));
  const start = process.cpuUsage();
  let sink = 0;
  for (let i = 0; i < n; i += 1) {
    const parsed = JSON.parse(body) as unknown;
    if (check && lostMembers(body, parsed)) sink += 1;
  }
  const used = process.cpuUsage(start);
  if (sink !== 0) throw new Error('a body without duplicates was found wanting');
  return ((used.user + used.system) * 1000) / n;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

console.log(`JSON.parse vs JSON.parse + lostMembers, CPU ns per body (median of ${ROUNDS} rounds)`);
for (const [name, body] of Object.entries(BODIES)) {
  const parse: number[] = [];
  const checked: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    parse.push(cpuNsPerBody(body, false));
    checked.push(cpuNsPerBody(body, true));
  }
  const [p, c] = [median(parse), median(checked)];
  console.log(`  ${name.padEnd(28)} ${String(body.length).padStart(6)} B   parse ${p.toFixed(0).padStart(8)} ns   parse+check ${c.toFixed(0).padStart(8)} ns   ×${(c / p).toFixed(2)}   (+${(c - p).toFixed(0)} ns)`);
}
