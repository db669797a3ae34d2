/**
 * node bench/keycloak-body-reads.ts [--users N] [--rounds N]
 *
 * What the admin API's Keycloak import costs to read its body, three times (the check pass and
 * the two passes of users, as a realm with both kinds of usernames is read): the streamed read
 * (stream-json's tokens, what every read was) against the scanned body (src/keycloak/body-document.ts:
 * the bytes scanned once, each user JSON.parse'd per read), and one JSON.parse of the whole body
 * for scale. A synthetic realm of --users users (20,000 by default, ≈ 25 MiB) shaped like
 * Keycloak 26's. CPU time of this thread (the machine is shared); the median of --rounds (3).
 * Never asserts timings.
 */
import { parseArgs } from 'node:util';
import { JsonBody } from '../src/admin/json-body.ts';
import { bodyDocument, textDocument, type KeycloakExportDocument } from '../src/keycloak/export-stream.ts';

const { values: flags } = parseArgs({ options: { users: { type: 'string' }, rounds: { type: 'string' } } });
const USERS = Number(flags.users ?? 20_000);
const ROUNDS = Number(flags.rounds ?? 3);

const user = (i: number) => ({
  id: `6f1c2b1e-${String(i).padStart(4, '0')}-4a4e-9a55-0c5b1f6d${String(i).padStart(4, '0')}`,
  username: `user-${i}`,
  firstName: 'Given',
  lastName: 'Family',
  email: `user-${i}@acme.test`,
  emailVerified: true,
  enabled: true,
  createdTimestamp: 1_700_000_000_000 + i,
  attributes: { locale: ['en'], department: ['engineering'] },
  credentials: [{ id: `c-${i}`, type: 'password', userLabel: 'My password', createdDate: 1_700_000_000_000, secretData: '{"value":"2b6dHkCj3hQ5z8V0p1y8o3p3Qm6cL1m5Ez3cX4o2N3k=","salt":"c2FsdHNhbHRzYWx0","additionalParameters":{}}', credentialData: '{"hashIterations":5,"algorithm":"argon2","additionalParameters":{"hashLength":["32"],"memory":["7168"],"type":["id"],"version":["1.3"],"parallelism":["1"]}}' }],
  disableableCredentialTypes: [],
  requiredActions: [],
  realmRoles: ['default-roles-acme', 'member'],
  clientRoles: { 'orders-api': ['orders.read'] },
  notBefore: 0,
  groups: ['/staff'],
});
const realm = { realm: 'acme', enabled: true, passwordPolicy: 'length(12)', roles: { realm: [{ name: 'member' }] }, clients: [{ clientId: 'portal' }], users: Array.from({ length: USERS }, (_, i) => user(i)) };
const bytes = Buffer.from(JSON.stringify(realm, null, 2));

async function threeReads(make: () => KeycloakExportDocument): Promise<number> {
  const start = process.cpuUsage();
  const document = make();
  let users = 0;
  for (let read = 0; read < 3; read += 1) await document.read(() => void (users += 1));
  if (users !== 3 * USERS) throw new Error(`read ${users} users`);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const streamedMs: number[] = [];
const scannedMs: number[] = [];
const parseMs: number[] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  const body = new JsonBody(bytes);
  streamedMs.push(await threeReads(() => textDocument('', { label: '', blocks: () => body.blocks(), refuse: () => body.notJson() })));
  scannedMs.push(await threeReads(() => bodyDocument(new JsonBody(bytes))));
  const start = process.cpuUsage();
  JSON.parse(bytes.toString('utf8'));
  const used = process.cpuUsage(start);
  parseMs.push((used.user + used.system) / 1000);
}
const [streamed, scanned, parse] = [median(streamedMs), median(scannedMs), median(parseMs)];
console.log(`${USERS} users, ${(bytes.length / 1024 / 1024).toFixed(1)} MiB body; CPU ms, median of ${ROUNDS} rounds`);
console.log(`  three streamed reads (stream-json)   ${streamed.toFixed(0).padStart(7)} ms   ×${(streamed / parse).toFixed(1)} one JSON.parse`);
console.log(`  three reads of the scanned body      ${scanned.toFixed(0).padStart(7)} ms   ×${(scanned / parse).toFixed(1)} one JSON.parse   (${(streamed / scanned).toFixed(1)}× less than streamed)`);
console.log(`  one JSON.parse of the whole body     ${parse.toFixed(0).padStart(7)} ms`);
