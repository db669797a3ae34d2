import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { stopProcessOnExit } from './exit-guard.ts';
import { treeRssBytes } from './process-tree.ts';
import { freePort } from './services.ts';

export interface Child {
  readonly name: string;
  readonly url: string;
  readonly process: ChildProcess;
  /** Milliseconds from spawn to the first successful readiness answer. */
  readonly startToReadyMs: number;
  stop(): Promise<void>;
}

/**
 * Resident set size of a server in bytes, from /proc (Linux): the process and its descendants
 * (with GATEHOUSE_WORKERS, the supervisor and every worker).
 */
export function rssBytes(pid: number): number {
  return treeRssBytes(pid);
}

/** How many workers a Gatehouse started with these settings runs (GATEHOUSE_WORKERS; 1 = no cluster). */
export function workersOf(env: Record<string, string>): number {
  const setting = env.GATEHOUSE_WORKERS?.trim();
  if (setting === undefined || setting === '') return 1;
  return setting === 'auto' ? availableParallelism() : Number(setting);
}

function collectStderr(child: ChildProcess): () => string {
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  });
  return () => tail;
}

/**
 * With `BENCH_SERVER_STDOUT_DIR` set, a server's standard output goes to
 * `<dir>/<name>-<pid>.out` instead of nowhere: what V8 prints there (`--trace-gc`, given as
 * `compare.ts --node-arg name:--trace-gc` or `--reference-node-arg --trace-gc`) can be read after
 * the run. Unset, the output is dropped as before (the bench logs at `warn`, to standard error).
 */
function stdoutFile(name: string, pid: number | undefined): NodeJS.WritableStream | undefined {
  const dir = process.env.BENCH_SERVER_STDOUT_DIR;
  if (dir === undefined || dir === '' || pid === undefined) return undefined;
  mkdirSync(dir, { recursive: true });
  return createWriteStream(`${dir}/${name}-${pid}.out`);
}

/**
 * Starts a Gatehouse entry point (dist/main.js or a variant) with `node --expose-gc`, as `npm
 * start` and the Dockerfile do, and waits until /readyz answers 200;
 * with GATEHOUSE_WORKERS, until every worker is ready: the bench logs at `warn`, so it cannot read
 * the supervisor's "gatehouse ready" line, and it counts the workers in /metrics instead
 * (`gatehouse_worker_processes`, on a metrics port of its own unless the settings give one).
 */
export async function startGatehouseProcess(name: string, args: string[], settings: Record<string, string>, url: string): Promise<Child> {
  const workers = workersOf(settings);
  const env = workers > 1 && settings.GATEHOUSE_METRICS_PORT === undefined && settings.GATEHOUSE_METRICS_TOKEN === undefined ? { ...settings, GATEHOUSE_METRICS_PORT: String(await freePort()) } : settings;
  const metricsUrl = env.GATEHOUSE_METRICS_PORT === undefined ? `${url}/metrics` : `http://127.0.0.1:${env.GATEHOUSE_METRICS_PORT}/metrics`;
  const metricsHeaders: Record<string, string> = env.GATEHOUSE_METRICS_TOKEN === undefined ? {} : { authorization: `Bearer ${env.GATEHOUSE_METRICS_TOKEN}` };
  const allWorkersReady = async () => {
    if (workers === 1) return true;
    const text = await fetch(metricsUrl, { headers: metricsHeaders }).then((response) => (response.ok ? response.text() : ''), () => '');
    return Number(/^gatehouse_worker_processes (\d+)$/m.exec(text)?.[1] ?? 0) >= workers;
  };
  const started = performance.now();
  const keep = process.env.BENCH_SERVER_STDOUT_DIR !== undefined && process.env.BENCH_SERVER_STDOUT_DIR !== '';
  // As production starts it (`npm start`, the Dockerfile): the idle collector's gc() from the main
  // context; without the flag its own context wakes V8's memory reducer (idle-collector.ts).
  const nodeArgs = args.includes('--expose-gc') ? args : ['--expose-gc', ...args];
  const child = spawn(process.execPath, nodeArgs, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', keep ? 'pipe' : 'ignore', 'pipe'] });
  const out = stdoutFile(name, child.pid);
  if (out !== undefined) child.stdout?.pipe(out);
  const stop = stopProcessOnExit(name, child);
  const stderr = collectStderr(child);
  const deadline = Date.now() + 180_000; // a loaded machine starts two workers slowly
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`${name} exited with ${child.exitCode}: ${stderr()}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} was not ready within 180 s: ${stderr()}`);
    }
    const ready = await fetch(`${url}/readyz`).then((response) => response.ok, () => false);
    if (ready && (await allWorkersReady())) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { name, url, process: child, startToReadyMs: performance.now() - started, stop };
}

/** Starts the reference server and reads the URL it prints. */
export async function startReference(fixturePath: string, nodeArgs: readonly string[] = []): Promise<Child> {
  const started = performance.now();
  const script = new URL('../reference-server.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, [...nodeArgs, script, fixturePath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = stopProcessOnExit('reference', child);
  const stderr = collectStderr(child);
  const lines = createInterface({ input: child.stdout! });
  const out = stdoutFile('reference', child.pid);
  const url = await new Promise<string>((resolve, reject) => {
    // The first JSON line is the URL; anything else (V8's --trace-gc) goes to the stdout file, if kept.
    lines.on('line', (line) => {
      if (line.startsWith('{')) resolve((JSON.parse(line) as { url: string }).url);
      else out?.write(`${line}\n`);
    });
    child.once('exit', (code) => reject(new Error(`reference server exited with ${code}: ${stderr()}`)));
  });
  return { name: 'reference', url, process: child, startToReadyMs: performance.now() - started, stop };
}
