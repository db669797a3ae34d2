import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface Child {
  readonly name: string;
  readonly url: string;
  readonly process: ChildProcess;
  /** Milliseconds from spawn to the first successful readiness answer. */
  readonly startToReadyMs: number;
  stop(): Promise<void>;
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:'));
  return Number(line?.replace(/\D+/g, '') ?? 0) * 1024;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

function collectStderr(child: ChildProcess): () => string {
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  });
  return () => tail;
}

/** Starts a Gatehouse entry point (dist/main.js or a variant) and waits until /readyz answers 200. */
export async function startGatehouseProcess(name: string, args: string[], env: Record<string, string>, url: string): Promise<Child> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr = collectStderr(child);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${stderr()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} was not ready within 60 s: ${stderr()}`);
    }
    const ready = await fetch(`${url}/readyz`).then((response) => response.ok, () => false);
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { name, url, process: child, startToReadyMs: performance.now() - started, stop: stopper(child) };
}

/** Starts the reference server and reads the URL it prints. */
export async function startReference(fixturePath: string, nodeArgs: readonly string[] = []): Promise<Child> {
  const started = performance.now();
  const script = new URL('../reference-server.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, [...nodeArgs, script, fixturePath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = collectStderr(child);
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`reference server exited with ${code}: ${stderr()}`)));
  });
  return { name: 'reference', url, process: child, startToReadyMs: performance.now() - started, stop: stopper(child) };
}
