import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { processTree } from './process-tree.ts';
import { table } from './report.ts';

/*
 * Where a server's resident memory is, read from outside the process (Linux /proc, and the
 * server's own /metrics for V8's side), so a bench can tell live objects from memory only
 * reserved: the V8 heap (committed vs used), V8's external memory (Buffers, ArrayBuffers), and
 * the native heap — glibc malloc's main arena ([heap], grown by brk) and its per-thread arenas
 * (anonymous mappings of 64 MiB, reserved whole and aligned to 64 MiB, made rw as they grow).
 */

const ARENA_BYTES = 64 * 1024 * 1024;

export interface MemoryParts {
  /** VmRSS of the process tree. */
  readonly rss: number;
  /** RssAnon (private anonymous pages: heaps, stacks) and RssFile (code and mapped files). */
  readonly rssAnon: number;
  readonly rssFile: number;
  /** Resident bytes in malloc's main arena ([heap]) and in its thread arenas. */
  readonly mallocMain: number;
  readonly mallocArenas: number;
  /** How many thread arenas are mapped. */
  readonly arenas: number;
  /** Open sockets (listeners, store connections, and clients' keep-alive connections still open). */
  readonly sockets: number;
  /** From /metrics (nodejs_heap_size_total_bytes etc.), summed over the tree's event loops; undefined without metrics. */
  readonly heapTotal?: number;
  readonly heapUsed?: number;
  readonly external?: number;
}

interface Mapping {
  readonly start: number;
  readonly end: number;
  readonly anonymous: boolean;
  readonly name: string;
  rss: number;
}

function mappingsOf(pid: number): Mapping[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return []; // ended meanwhile
  }
  const mappings: Mapping[] = [];
  for (const line of text.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (header !== null) {
      mappings.push({ start: Number.parseInt(header[1]!, 16), end: Number.parseInt(header[2]!, 16), anonymous: header[3] === '0', name: header[4]!.trim(), rss: 0 });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB$/.exec(line);
    if (rss !== null && mappings.length > 0) mappings[mappings.length - 1]!.rss += Number(rss[1]) * 1024;
  }
  return mappings;
}

/** malloc's arenas in one process: [heap], and runs of anonymous mappings that fill exactly one aligned 64 MiB. */
function mallocOf(pid: number): { main: number; arenas: number; count: number } {
  const mappings = mappingsOf(pid);
  let main = 0;
  let arenas = 0;
  let count = 0;
  for (let index = 0; index < mappings.length; index += 1) {
    const first = mappings[index]!;
    if (first.name === '[heap]') main += first.rss;
    if (!first.anonymous || first.name !== '' || first.start % ARENA_BYTES !== 0) continue;
    let end = first.end;
    let rss = first.rss;
    let next = index + 1;
    while (end - first.start < ARENA_BYTES && mappings[next]?.start === end && mappings[next]!.anonymous && mappings[next]!.name === '') {
      end = mappings[next]!.end;
      rss += mappings[next]!.rss;
      next += 1;
    }
    if (end - first.start !== ARENA_BYTES) continue;
    arenas += rss;
    count += 1;
    index = next - 1;
  }
  return { main, arenas, count };
}

function socketsOf(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
      } catch {
        return false; // closed meanwhile
      }
    }).length;
  } catch {
    return 0; // ended meanwhile
  }
}

function statusKiB(pid: number, field: string): number {
  try {
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** Sums a metric family's unlabelled samples (with workers, the relayed per-worker samples). */
function metric(text: string, name: string): number | undefined {
  const values = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((match) => Number(match[1]));
  return values.length === 0 ? undefined : values.reduce((sum, value) => sum + value, 0);
}

/** The memory parts of a server's process tree; `metrics` reads its /metrics text (omit to skip V8's side). */
export async function memoryParts(pid: number, metrics?: () => Promise<string>): Promise<MemoryParts> {
  const tree = processTree(pid);
  const sum = (read: (each: number) => number) => tree.reduce((total, each) => total + read(each), 0);
  const malloc = tree.map(mallocOf);
  const text = metrics === undefined ? undefined : await metrics().catch(() => undefined);
  const fromMetrics = (name: string) => (text === undefined ? undefined : metric(text, name));
  const heapTotal = fromMetrics('nodejs_heap_size_total_bytes');
  const heapUsed = fromMetrics('nodejs_heap_size_used_bytes');
  const external = fromMetrics('nodejs_external_memory_bytes');
  return {
    rss: sum((each) => statusKiB(each, 'VmRSS')),
    rssAnon: sum((each) => statusKiB(each, 'RssAnon')),
    rssFile: sum((each) => statusKiB(each, 'RssFile')),
    mallocMain: malloc.reduce((total, each) => total + each.main, 0),
    mallocArenas: malloc.reduce((total, each) => total + each.arenas, 0),
    arenas: malloc.reduce((total, each) => total + each.count, 0),
    sockets: sum(socketsOf),
    ...(heapTotal === undefined ? {} : { heapTotal }),
    ...(heapUsed === undefined ? {} : { heapUsed }),
    ...(external === undefined ? {} : { external }),
  };
}

/**
 * Reads a Gatehouse's /metrics text, wherever its settings serve it (GATEHOUSE_METRICS_PORT,
 * GATEHOUSE_METRICS_TOKEN; otherwise on the main port, as outside production).
 */
export function metricsReader(settings: Record<string, string>, url: string): () => Promise<string> {
  const metricsUrl = settings.GATEHOUSE_METRICS_PORT === undefined ? `${url}/metrics` : `http://127.0.0.1:${settings.GATEHOUSE_METRICS_PORT}/metrics`;
  const headers: Record<string, string> = settings.GATEHOUSE_METRICS_TOKEN === undefined ? {} : { authorization: `Bearer ${settings.GATEHOUSE_METRICS_TOKEN}` };
  return async () => {
    const response = await fetch(metricsUrl, { headers });
    if (!response.ok) throw new Error(`GET ${metricsUrl} → ${response.status}`);
    return response.text();
  };
}

const mib = (bytes: number | undefined) => (bytes === undefined ? '?' : (bytes / 1048576).toFixed(1));

/** One line: "RSS 404.2 (anon 380.1, file 24.1) | V8 heap 80.2 committed, 55.0 used | external 3.1 | malloc main 20.0, 12 arenas 250.3 MiB". */
export function describeParts(parts: MemoryParts): string {
  return `RSS ${mib(parts.rss)} (anon ${mib(parts.rssAnon)}, file ${mib(parts.rssFile)}) | V8 heap ${mib(parts.heapTotal)} committed, ${mib(parts.heapUsed)} used | external ${mib(parts.external)} | malloc main ${mib(parts.mallocMain)}, ${parts.arenas} thread arenas ${mib(parts.mallocArenas)} MiB | ${parts.sockets} sockets`;
}

/** A Markdown table of readings (MiB), one row per moment. */
export function partsTable(rows: ReadonlyArray<readonly [string, MemoryParts]>): string {
  return table(
    ['MiB', 'RSS', 'anon', 'file', 'V8 heap committed', 'V8 heap used', 'external', 'malloc main', 'malloc thread arenas (count)', 'sockets'],
    rows.map(([moment, parts]) => [moment, mib(parts.rss), mib(parts.rssAnon), mib(parts.rssFile), mib(parts.heapTotal), mib(parts.heapUsed), mib(parts.external), mib(parts.mallocMain), `${mib(parts.mallocArenas)} (${parts.arenas})`, parts.sockets]),
  );
}

/** The parts in MiB, for a JSON report. */
export function partsMiB(parts: MemoryParts): Record<string, number | undefined> {
  const round = (bytes: number | undefined) => (bytes === undefined ? undefined : Math.round((bytes / 1048576) * 10) / 10);
  return {
    rss: round(parts.rss),
    rssAnon: round(parts.rssAnon),
    rssFile: round(parts.rssFile),
    heapTotal: round(parts.heapTotal),
    heapUsed: round(parts.heapUsed),
    external: round(parts.external),
    mallocMain: round(parts.mallocMain),
    mallocArenas: round(parts.mallocArenas),
    arenas: parts.arenas,
    sockets: parts.sockets,
  };
}
