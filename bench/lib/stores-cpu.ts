import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU milliseconds so far of the bench's store processes (FerretDB, PostgreSQL with its backends,
 * Redis), found from their pid files under `<root>.data/bench-services` and their children.
 */
export function storesCpuMs(root: string): number {
  const { mongo, postgres, redis } = storesCpuByStore(root);
  return mongo + postgres + redis;
}

/** The same, per store: the MongoDB-wire server (FerretDB or mongod), PostgreSQL (0 without it), Redis. */
export function storesCpuByStore(root: string): { mongo: number; postgres: number; redis: number } {
  const dir = `${root}.data/bench-services`;
  const cpuOf = (pid: string) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return { ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100, ppid: fields[1]! };
    } catch {
      // ended meanwhile
      return { ms: 0, ppid: '' };
    }
  };
  const roots = new Map<string, 'mongo' | 'postgres' | 'redis'>();
  for (const name of ['mongo', 'postgres', 'redis'] as const) {
    try {
      roots.set(readFileSync(`${dir}/${name}.pid`, 'utf8').trim(), name);
    } catch {
      // not running
    }
  }
  const totals = { mongo: 0, postgres: 0, redis: 0 };
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    const { ms, ppid } = cpuOf(pid);
    const store = roots.get(pid) ?? roots.get(ppid);
    if (store !== undefined) totals[store] += ms;
  }
  return totals;
}

/**
 * Transactions PostgreSQL has committed or rolled back so far in FerretDB's database, when the
 * bench's FerretDB runs on PostgreSQL (undefined otherwise): FerretDB v1 turns each MongoDB write
 * into transactions of its own, so the count per request shows what a change to the writes
 * bought on this store. An idle backend publishes its counters up to 10 s late (PostgreSQL 15's
 * PGSTAT_IDLE_INTERVAL): wait that long before reading. The query itself counts one.
 */
export function storeTransactions(root: string): number | undefined {
  const dir = `${root}.data/bench-services`;
  try {
    if (readFileSync(`${dir}/mongo.backend`, 'utf8').trim() !== 'postgresql') return undefined;
    const port = readFileSync(`${dir}/postgres.port`, 'utf8').trim();
    const sql = 'select xact_commit + xact_rollback from pg_stat_database where datname = current_database()';
    const out = execFileSync('psql', ['-h', `${dir}/postgres`, '-p', port, '-U', 'postgres', '-d', 'ferretdb', '-Atc', sql], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const value = Number(out.trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
