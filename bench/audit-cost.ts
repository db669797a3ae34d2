/**
 * node bench/audit-cost.ts [--events N] [--rounds N] [--batch N] [--batch-sizes N,N] [--variants all,at,id,lean,minimal] [--sweeps N]
 *
 * What one stored audit event costs, by the way it is written: Node's CPU (the event loop that
 * serializes and sends it) and the stores' CPU (FerretDB and PostgreSQL, or mongod), per event,
 * for batches of 100 (`--batch`) `token.issued` events as a client_credentials token leaves them:
 *   insertMany, query indexes   how the audit trail wrote before the fifth round
 *   insert command, query indexes  the raw command (src/storage/insert-command.ts), on MongoDB
 *   insert command, _id + at      the same where the query indexes are left out (FerretDB v1)
 *   compact event                 the same, the event without its null fields and without a
 *                                 `client` that repeats a client actor's id (what the trail stores now)
 *   lean, minimal                 smaller documents (`--variants`): without `details`; `_id`, `type`
 *                                 and the actor alone (a bound on what any smaller shape can save)
 * Uses the bench's own services (scripts/services under .data/bench-services) and drops its
 * database first. CPU time from /proc holds on a loaded machine far better than wall time; each
 * variant waits 11 s after its writes so that PostgreSQL's late statistics and FerretDB's
 * background work land in its own window. With `--rounds N` the variants run N times in turn and
 * each column is the median of its rounds (a round whose stores' CPU went down — a PostgreSQL
 * backend that exited took its CPU time with it — is left out). `--sweeps N` then measures N audit
 * retention sweeps with nothing due over the `_id`-only collection (on FerretDB v1 the sweeper's
 * `at < cutoff` reads every document: its cost per sweep grows with the events held). Never
 * asserts timings.
 */
import { parseArgs } from 'node:util';
import { ObjectId } from 'mongodb';
import { ensureAuditIndexes } from '../src/observability/audit-collection-setup.ts';
import type { AuditCollection } from '../src/observability/audit-trail.ts';
import { benchServices, benchServicesUp } from './lib/services.ts';
import { round } from './lib/stats.ts';
import { openStores, resetStores } from './lib/storage.ts';
import { storesCpuByStore } from './lib/stores-cpu.ts';
import { usage, usageOnHelp } from './lib/usage.ts';

usageOnHelp(import.meta.url);
const { values: flags } = parseArgs({ options: { events: { type: 'string' }, rounds: { type: 'string' }, batch: { type: 'string' }, 'batch-sizes': { type: 'string' }, variants: { type: 'string' }, sweeps: { type: 'string' } } });
/** Retention sweeps to measure after the writes (`--sweeps N`): FerretDB v1's audit retention is a sweeper whose `at < cutoff` scans the collection. */
const SWEEPS = Number(flags.sweeps ?? 0);
const EVENTS = Number(flags.events ?? 5000);
const ROUNDS = Number(flags.rounds ?? 1);
/** Events per insert (the audit trail writes up to 100 at a time). */
const BATCH = Number(flags.batch ?? 100);
/** The variants at --batch, by name (`--variants all,at,id,lean,minimal`; all,at,id,lean by default): the index sets, `lean`, the event without `details`, and `minimal`, the bound on what any smaller document saves. */
const VARIANTS = (flags.variants ?? 'all,at,id,lean').split(',').filter((name) => name !== '');
/** Other batch sizes, written to the `_id`-only collection (`--batch-sizes 10,500`): a lightly used server's 1 s timer fires before 100 events wait. */
const BATCH_SIZES = (flags['batch-sizes'] ?? '10,500').split(',').filter((size) => size !== '').map(Number);
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

/** The same event as the trail stores it since the sixth round: no null or empty field, no `client` repeating a client actor's id. */
const compactEvent = () => ({
  _id: new ObjectId(),
  at: new Date(),
  type: 'token.issued',
  actor: { type: 'client', id: 'service-0123456789' },
  ip: '203.0.113.7',
  details: { grantType: 'client_credentials' },
  requestId: '0b9f1c2e-4d5a-4e6f-8a7b-9c0d1e2f3a4b',
});

/** The compact event without its one-member `details` (what a document's size costs). */
const leanEvent = () => {
  const { details: _details, ...lean } = compactEvent();
  return lean;
};

/**
 * The least an event could be and still say who did what: `_id`, `type` and the actor — no
 * time (the id holds its second), address, request id or details. Not a shape the trail could
 * store (its queries and readers need the rest): the bound on what any smaller document can save.
 */
const minimalEvent = () => ({ _id: new ObjectId(), type: 'token.issued', actor: { type: 'client', id: 'service-0123456789' } });

/**
 * The index sets an audit collection has had: `all` — the five query indexes (ensureAuditIndexes)
 * and the retention index on `at` (MongoDB; FerretDB deployments started before the fifth round
 * kept them); `at` — `_id` and `at` (FerretDB v1 from the fifth round to the seventeenth); `id` —
 * `_id` alone (FerretDB v1 now: none of its audit queries can use another index).
 */
type IndexSet = 'all' | 'at' | 'id';
async function prepared(name: string, indexes: IndexSet) {
  const collection = db.collection(name);
  await collection.insertOne(event());
  if (indexes === 'all') await ensureAuditIndexes(collection as unknown as AuditCollection);
  if (indexes !== 'id') await collection.createIndex({ at: 1 }, { name: 'at_1' });
  return collection;
}

type Write = (docs: Array<Record<string, unknown>>) => Promise<unknown>;

/** Node, FerretDB (or mongod), PostgreSQL and both stores' CPU µs per event, for one variant's writes. */
async function measure(write: Write, make: () => Record<string, unknown> = event, batch = BATCH): Promise<number[]> {
  const batches = Array.from({ length: Math.ceil(EVENTS / batch) }, () => Array.from({ length: batch }, make));
  const before = storesCpuByStore(ROOT);
  const cpu = process.cpuUsage();
  for (const docs of batches) await write(docs);
  const node = process.cpuUsage(cpu);
  await new Promise((resolve) => setTimeout(resolve, 11_000));
  const after = storesCpuByStore(ROOT);
  const per = (ms: number) => (ms * 1000) / EVENTS;
  return [(node.user + node.system) / EVENTS, per(after.mongo - before.mongo), per(after.postgres - before.postgres), per(after.mongo + after.postgres - before.mongo - before.postgres)];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? Number.NaN : sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const rows: Array<Array<string | number>> = [];
try {
  const insertInto = (name: string): Write => (docs) => db.command({ insert: name, documents: docs, ordered: false });
  await prepared('audit_all', 'all');
  await prepared('audit_at', 'at');
  await prepared('audit_id', 'id');
  await prepared('audit_id_lean', 'id');
  await prepared('audit_id_minimal', 'id');
  const named: Record<string, [string, Write, (() => Record<string, unknown>) | undefined, number | undefined]> = {
    all: ['_id + five query indexes + at (MongoDB; FerretDB started before the fifth round)', insertInto('audit_all'), compactEvent, undefined],
    at: ['_id + at (FerretDB v1, fifth to seventeenth round)', insertInto('audit_at'), compactEvent, undefined],
    id: ['_id only', insertInto('audit_id'), compactEvent, undefined],
    lean: ['_id only, without `details`', insertInto('audit_id_lean'), leanEvent, undefined],
    minimal: ['_id only, `_id`, `type` and `actor` alone (a bound, not a shape)', insertInto('audit_id_minimal'), minimalEvent, undefined],
  };
  const variants = VARIANTS.map((name) => named[name] ?? usage(`--variants: no variant ${name}`));
  for (const size of BATCH_SIZES) {
    await prepared(`audit_id_${size}`, 'id');
    variants.push([`_id only, batches of ${size}`, insertInto(`audit_id_${size}`), compactEvent, size]);
  }
  const samples = variants.map(() => [] as number[][]);
  for (let index = 0; index < ROUNDS; index += 1) {
    for (const [at, [, write, make, batch]] of variants.entries()) {
      const sample = await measure(write, make, batch);
      if (sample.every((value) => value >= 0)) samples[at]!.push(sample);
    }
  }
  for (const [at, [name]] of variants.entries()) {
    rows.push([name, ...[0, 1, 2, 3].map((column) => round(median(samples[at]!.map((sample) => sample[column]!)), 1) ?? 0), samples[at]!.length]);
  }
  const header = ['write', 'Node CPU µs/event', 'FerretDB (or mongod) CPU µs/event', 'PostgreSQL CPU µs/event', 'stores µs/event', 'rounds counted'];
  process.stdout.write(`${[header, header.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n')}\n`);
  if (SWEEPS > 0) {
    // What the audit retention's sweeper (audit-retention.ts, every 60 s on FerretDB v1) costs the stores when nothing is due: the `_id`-only collection as the rounds left it.
    const collection = db.collection('audit_id');
    const held = await collection.estimatedDocumentCount();
    const sweepRows: Array<Array<string | number>> = [];
    for (let index = 0; index < SWEEPS; index += 1) {
      const before = storesCpuByStore(ROOT);
      const cpu = process.cpuUsage();
      const deleted = (await collection.deleteMany({ at: { $lte: new Date(0) } })).deletedCount;
      const node = process.cpuUsage(cpu);
      await new Promise((resolve) => setTimeout(resolve, 11_000));
      const after = storesCpuByStore(ROOT);
      const stores = after.mongo + after.postgres - before.mongo - before.postgres;
      sweepRows.push([index + 1, held, deleted, round((node.user + node.system) / 1000, 1) ?? 0, round(after.mongo - before.mongo, 1) ?? 0, round(after.postgres - before.postgres, 1) ?? 0, round((stores * 1000) / Math.max(1, held), 2) ?? 0]);
    }
    const sweepHeader = ['sweep', 'documents held', 'deleted', 'Node CPU ms', 'FerretDB (or mongod) CPU ms', 'PostgreSQL CPU ms', 'stores µs per document held'];
    process.stdout.write(`\nretention sweeps with nothing due (\`deleteMany({at: {$lte: …}})\` on the \`_id\`-only collection):\n${[sweepHeader, sweepHeader.map(() => '---'), ...sweepRows].map((row) => `| ${row.join(' | ')} |`).join('\n')}\n`);
  }
} finally {
  await resetStores(stores);
  await stores.close();
  benchServices('down');
}
