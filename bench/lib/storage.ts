import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { monitorRedis } from './redis-monitor.ts';

type Db = mongoose.mongo.Db;
export type CommandCounts = Record<string, number>;

/** Commands the bench itself (INFO, watchRedisSent's ECHO marker) or the servers' housekeeping issue; not part of a request's work. */
const IGNORED = new Set(['serverStatus', 'unknown', 'endSessions', 'hello', 'isMaster', 'ismaster', 'ping', 'collStats', 'dbStats', 'buildInfo', 'saslStart', 'saslContinue']);
const IGNORED_REDIS = new Set(['info', 'monitor', 'ping', 'echo', 'subscribe', 'psubscribe', 'client', 'memory', 'scan', 'select', 'hello', 'command', 'script', 'config']);

export interface Stores {
  readonly mongo: mongoose.mongo.MongoClient;
  readonly db: Db;
  readonly redis: Redis;
  close(): Promise<void>;
}

export async function openStores(mongodbUri: string, redisUrl: string): Promise<Stores> {
  const mongo = new mongoose.mongo.MongoClient(mongodbUri, { maxPoolSize: 32 });
  await mongo.connect();
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  return { mongo, db: mongo.db(), redis, close: async () => void (await Promise.all([mongo.close(), redis.quit()])) };
}

/**
 * Empties what a bench run writes: its database, and with `redisPrefix` the Redis keys under it
 * (the bench's Redis outlives a run, and a run that died leaves its keys behind).
 */
export async function resetStores(stores: Stores, redisPrefix?: string): Promise<void> {
  await stores.db.dropDatabase();
  if (redisPrefix === undefined) return;
  const stale = await stores.redis.keys(`${redisPrefix}*`);
  if (stale.length > 0) await stores.redis.del(...stale);
}

/** The settings a Gatehouse under test needs on these stores: a fresh secret, keys under `redisPrefix`. */
export function gatehouseStoreSettings(mongodbUri: string, redisUrl: string, redisPrefix: string): Record<string, string> {
  return { MONGODB_URI: mongodbUri, REDIS_URL: redisUrl, GATEHOUSE_SECRET: randomBytes(32).toString('base64url'), GATEHOUSE_REDIS_PREFIX: redisPrefix };
}

/** Server-side command counters (MongoDB and FerretDB both keep metrics.commands; Redis INFO commandstats). */
export async function commandCounts(stores: Stores): Promise<CommandCounts> {
  const status = (await stores.db.admin().command({ serverStatus: 1 })) as { metrics?: { commands?: Record<string, { total?: unknown }> } };
  const counts: CommandCounts = {};
  for (const [name, value] of Object.entries(status.metrics?.commands ?? {})) {
    const total = Number(typeof value.total === 'object' && value.total !== null ? String(value.total) : value.total);
    if (!IGNORED.has(name) && Number.isFinite(total)) counts[`mongo.${name}`] = total;
  }
  const info = await stores.redis.info('commandstats');
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!IGNORED_REDIS.has(match[1]!)) counts[`redis.${match[1]}`] = Number(match[2]);
  }
  return counts;
}

/**
 * Redis commands as clients send them (one round trip each; a script counts once), seen through
 * MONITOR: commandstats also counts every command a script runs, which says how much work Redis
 * does but not how many times Gatehouse waited for it. Returns counts keyed `redis.sent.<name>`.
 * MONITOR runs on a socket of its own (bench/lib/redis-monitor.ts says why not ioredis's); stop()
 * sends ECHO <marker> on the stores' connection and counts until the monitor sees it, so every
 * command Redis ran before stop() is in, however late its MONITOR line comes.
 */
export async function watchRedisSent(stores: Stores): Promise<{ stop(): Promise<CommandCounts> }> {
  const counts: CommandCounts = {};
  const monitor = await monitorRedis(stores.redis.options, ({ name, source }) => {
    if (source === 'lua' || IGNORED_REDIS.has(name)) return;
    counts[`redis.sent.${name}`] = (counts[`redis.sent.${name}`] ?? 0) + 1;
  });
  return {
    async stop() {
      const marker = `gatehouse-bench-monitor-${randomBytes(8).toString('hex')}`;
      const seen = monitor.seen(marker);
      seen.catch(() => {}); // awaited below; handled now in case the monitor closes meanwhile
      try {
        await stores.redis.echo(marker);
        await seen;
      } finally {
        monitor.close();
      }
      return counts;
    },
  };
}

const MONGO_READS = new Set(['find', 'aggregate', 'count', 'getMore', 'distinct']);
const MONGO_WRITES = new Set(['insert', 'update', 'delete', 'findAndModify']);

/** The headline of a command mix: MongoDB reads and writes, Redis commands sent and run inside scripts. */
export function mixHeadline(mix: CommandCounts): { mongoReads: number; mongoWrites: number; redisSent: number; redisInScripts: number } {
  let mongoReads = 0;
  let mongoWrites = 0;
  let redisSent = 0;
  let redisAll = 0;
  for (const [name, count] of Object.entries(mix)) {
    const [store, command, sent] = name.split('.') as [string, string, string?];
    if (store === 'mongo' && MONGO_READS.has(command)) mongoReads += count;
    else if (store === 'mongo' && MONGO_WRITES.has(command)) mongoWrites += count;
    else if (store === 'redis' && command === 'sent' && sent !== undefined) redisSent += count;
    else if (store === 'redis') redisAll += count;
  }
  const fix = (value: number) => Number(value.toFixed(2));
  return { mongoReads: fix(mongoReads), mongoWrites: fix(mongoWrites), redisSent: fix(redisSent), redisInScripts: fix(Math.max(0, redisAll - redisSent)) };
}

/** Commands per request between two snapshots. */
export function perRequest(before: CommandCounts, after: CommandCounts, requests: number): CommandCounts {
  const mix: CommandCounts = {};
  for (const [name, total] of Object.entries(after)) {
    const delta = total - (before[name] ?? 0);
    if (delta > 0) mix[name] = Number((delta / requests).toFixed(2));
  }
  return mix;
}

export interface CeilingMeasured {
  readonly mix: CommandCounts;
  readonly replaysPerSecond: number;
  readonly seconds: number;
}

/**
 * The storage's own ceiling for a request: the same database commands, issued directly through
 * the drivers by `concurrency` workers in a closed loop, against documents of the real size.
 * MongoDB: find → findOne by _id, insert → insertOne, update → updateOne by _id, delete →
 * deleteOne. Redis: eval/evalsha → a one-line script that writes, reads (get, hmget, hgetall,
 * exists, smembers) → GET, anything else → SET with expiry.
 */
export async function measureStorageCeiling(stores: Stores, mix: CommandCounts, sample: object, seconds: number, concurrency: number): Promise<CeilingMeasured> {
  const collection = stores.db.collection<{ _id: string; payload?: string; at?: number }>('bench_ceiling');
  const payload = JSON.stringify(sample);
  const seedIds = Array.from({ length: 256 }, () => `bench-ceiling-${randomBytes(16).toString('base64url')}`);
  await collection.insertMany(seedIds.map((_id) => ({ _id, payload })));
  const redisKey = (id: string) => `bench:ceiling:${id}`;
  await Promise.all(seedIds.map((id) => stores.redis.set(redisKey(id), payload, 'EX', 600)));
  const steps: Array<() => Promise<unknown>> = [];
  const pick = () => seedIds[Math.floor(Math.random() * seedIds.length)]!;
  const fresh = () => `bench-ceiling-${randomBytes(16).toString('base64url')}`;
  // Redis: replay what clients sent (a script is one round trip) when MONITOR counted it.
  const sentSeen = Object.keys(mix).some((name) => name.startsWith('redis.sent.'));
  for (const [name, perRequestCount] of Object.entries(mix)) {
    const parts = name.split('.');
    if (parts[0] === 'redis' && sentSeen !== (parts[1] === 'sent')) continue;
    const store = parts[0]!;
    const command = parts[parts.length - 1]!;
    let step: () => Promise<unknown>;
    if (store === 'mongo') {
      if (command === 'insert') step = () => collection.insertOne({ _id: fresh(), payload });
      else if (command === 'update') step = () => collection.updateOne({ _id: pick() }, { $set: { payload, at: Date.now() } });
      else if (command === 'delete') step = () => collection.deleteOne({ _id: fresh() });
      else step = () => collection.findOne({ _id: pick() });
    } else if (command === 'eval' || command === 'evalsha') {
      step = () => stores.redis.eval("redis.call('SET', KEYS[1], ARGV[1], 'EX', 600) return 1", 1, redisKey(fresh()), payload);
    } else if (['get', 'hmget', 'hgetall', 'exists', 'smembers', 'mget', 'ttl'].includes(command)) {
      step = () => stores.redis.get(redisKey(pick()));
    } else {
      step = () => stores.redis.set(redisKey(fresh()), payload, 'EX', 600);
    }
    for (let index = 0; index < Math.round(perRequestCount); index += 1) steps.push(step);
  }
  let replays = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      for (const step of steps) await step();
      replays += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await collection.drop().catch(() => {});
  return { mix, replaysPerSecond: replays / elapsed, seconds: elapsed };
}

export interface CollectionUsage {
  readonly documents: number;
  /** Average BSON size of a document (what the document itself holds). */
  readonly bsonBytesPerDocument: number;
  /** collStats size ÷ count: data pages on disk per document (FerretDB/SQLite counts whole pages). */
  readonly storedBytesPerDocument: number;
  readonly indexBytesPerDocument: number;
}

export async function collectionUsage(db: Db, name: string, documentsPerRecord = 1): Promise<CollectionUsage> {
  const stats = (await db.command({ collStats: name })) as { count: number; size: number; totalIndexSize: number };
  const sample = await db.collection(name).find().limit(200).toArray();
  const bson = sample.reduce((sum, doc) => sum + mongoose.mongo.BSON.calculateObjectSize(doc), 0);
  // Per record: a session is two documents (itself and its uid copy, src/storage/oidc/mongo-documents.ts).
  const count = Math.max(1, stats.count / documentsPerRecord);
  return {
    documents: stats.count / documentsPerRecord,
    bsonBytesPerDocument: sample.length > 0 ? (bson / sample.length) * documentsPerRecord : 0,
    storedBytesPerDocument: stats.size / count,
    indexBytesPerDocument: stats.totalIndexSize / count,
  };
}

/** MEMORY USAGE per key, averaged per model (`<prefix><Model>:<id>` keys), from a sample of each. */
export async function redisUsage(redis: Redis, prefix: string): Promise<Record<string, { keys: number; bytesPerKey: number }>> {
  const groups = new Map<string, string[]>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const group = key.slice(prefix.length).split(':')[0]!;
      groups.set(group, [...(groups.get(group) ?? []), key]);
    }
  } while (cursor !== '0');
  const usage: Record<string, { keys: number; bytesPerKey: number }> = {};
  for (const [group, keys] of groups) {
    const sample = keys.slice(0, 200);
    const sizes = await Promise.all(sample.map((key) => redis.memory('USAGE', key)));
    usage[group] = { keys: keys.length, bytesPerKey: sizes.reduce<number>((sum, size) => sum + Number(size ?? 0), 0) / sample.length };
  }
  return usage;
}
