/**
 * node bench/audit-cost.ts [--events N]
 *
 * What one stored audit event costs, by the way it is written: Node's CPU (the event loop that
 * serializes and sends it) and the stores' CPU (FerretDB and PostgreSQL, or mongod), per event,
 * for batches of 100 `token.issued` events as a client_credentials token leaves them:
 *   insertMany, query indexes   how the audit trail wrote before the fifth round
 *   insert command, query indexes  the raw command (src/storage/insert-command.ts), on MongoDB
 *   insert command, _id + at      the same where the query indexes are left out (FerretDB v1)
 * Uses the bench's own services (scripts/services under .data/bench-services) and drops its
 * database first. CPU time from /proc holds on a loaded machine far better than wall time; each
 * variant waits 11 s after its writes so that PostgreSQL's late statistics and FerretDB's
 * background work land in its own window. Never asserts timings.
 */
import { parseArgs } from 'node:util';
import { ObjectId } from 'mongodb';
import { ensureAuditIndexes, type AuditCollection } from '../src/observability/audit-trail.ts';
import { benchServicesUp } from './lib/services.ts';
import { round } from './lib/stats.ts';
import { openStores, resetStores } from './lib/storage.ts';
import { storesCpuByStore } from './lib/stores-cpu.ts';
import { usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({ options: { events: { type: 'string' } } });
const EVENTS = Number(flags.events ?? 5000);
const BATCH = 100;
const ROOT = new URL('..', import.meta.url).pathname;
const { mongodbUri, redisUrl } = benchServicesUp('gatehouse_audit_cost');
const stores = await openStores(mongodbUri, redisUrl);
await resetStores(stores);
const db = stores.db;

const event = () => ({
  _id: new ObjectId(),
  at: new Date(),
  type: 'token.issued',
  actor: { type: 'client', id: 'service-0123456789', username: null },
  client: 'service-0123456789',
  target: null,
  ip: '203.0.113.7',
  details: { grantType: 'client_credentials', grantId: null },
  requestId: '0b9f1c2e-4d5a-4e6f-8a7b-9c0d1e2f3a4b',
});

/** A collection with the audit trail's indexes (`withQueryIndexes`) or only _id and the retention index on `at`. */
async function prepared(name: string, withQueryIndexes: boolean) {
  const collection = db.collection(name);
  await collection.insertOne(event());
  if (withQueryIndexes) await ensureAuditIndexes(collection as unknown as AuditCollection);
  await collection.createIndex({ at: 1 }, { name: 'at_1' });
  return collection;
}

async function measure(name: string, write: (docs: ReturnType<typeof event>[]) => Promise<unknown>): Promise<Array<string | number>> {
  const batches = Array.from({ length: Math.ceil(EVENTS / BATCH) }, () => Array.from({ length: BATCH }, event));
  const before = storesCpuByStore(ROOT);
  const cpu = process.cpuUsage();
  for (const docs of batches) await write(docs);
  const node = process.cpuUsage(cpu);
  await new Promise((resolve) => setTimeout(resolve, 11_000));
  const after = storesCpuByStore(ROOT);
  const per = (ms: number) => round((ms * 1000) / EVENTS, 1) ?? 0;
  return [name, round((node.user + node.system) / EVENTS, 1) ?? 0, per(after.mongo - before.mongo), per(after.postgres - before.postgres), per(after.mongo + after.postgres - before.mongo - before.postgres)];
}

const rows: Array<Array<string | number>> = [];
try {
  const indexed = await prepared('audit_indexed', true);
  await prepared('audit_lean', false);
  rows.push(await measure('insertMany, query indexes (before)', (docs) => indexed.insertMany(docs, { ordered: false })));
  rows.push(await measure('insert command, query indexes (MongoDB)', (docs) => db.command({ insert: 'audit_indexed', documents: docs, ordered: false })));
  rows.push(await measure('insert command, _id + at (FerretDB v1)', (docs) => db.command({ insert: 'audit_lean', documents: docs, ordered: false })));
  const header = ['write', 'Node CPU µs/event', 'FerretDB (or mongod) CPU µs/event', 'PostgreSQL CPU µs/event', 'stores µs/event'];
  process.stdout.write(`${[header, header.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n')}\n`);
} finally {
  await resetStores(stores);
  await stores.close();
}
