import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU milliseconds so far of the bench's store processes (FerretDB, PostgreSQL with its backends,
 * Redis), found from their pid files under `<root>.data/bench-services` and their children.
 */
export function storesCpuMs(root: string): number {
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
  const roots = ['mongo.pid', 'postgres.pid', 'redis.pid'].flatMap((name) => {
    try {
      return [readFileSync(`${dir}/${name}`, 'utf8').trim()];
    } catch {
      return [];
    }
  });
  let total = 0;
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    const { ms, ppid } = cpuOf(pid);
    if (roots.includes(pid) || roots.includes(ppid)) total += ms;
  }
  return total;
}
