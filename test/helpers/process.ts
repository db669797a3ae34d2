import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { Readable, type Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { cli } from '../../src/cli/cli.ts';

export const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of a Node process a test starts: exactly `env` plus PATH, and a compile cache
 * shared by every such process (each one compiles the same TypeScript: on a busy machine that
 * CPU is seconds of waiting per start).
 */
export function childEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', NODE_COMPILE_CACHE: COMPILE_CACHE, ...env };
}
const COMPILE_CACHE = fileURLToPath(new URL('../../.data/node-compile-cache', import.meta.url));

/**
 * A child's whole output and how it ended. Resolves on 'close', not 'exit': a process can exit
 * before its parent has read the last of its output (more likely the busier the machine). With
 * `limitMs`, a child still running then is killed and the promise rejects, naming `what`.
 */
export function outputOf(child: ChildProcessByStdio<Writable | null, Readable, Readable>, limitMs?: number, what = 'the child process'): Promise<Exit> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer =
      limitMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, limitMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new Error(`${what} did not exit within ${limitMs} ms; stderr: ${stderr}`));
      else resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Runs `node src/main.ts` with exactly the given environment (plus PATH) until it exits. Every
 * caller expects it to refuse to start: one that logs "gatehouse ready" instead is killed at once
 * and the promise rejects (the signal that it will not exit, whatever the machine's load). The
 * wall-clock limit is only a backstop for a process that neither exits nor serves: a start loads
 * the whole server (about 1 s of CPU), which took over 20 s at load 50 on the shared 2 cores.
 */
export function runMain(env: Record<string, string>, timeoutMs = 90_000): Promise<Exit> {
  const child = spawn(process.execPath, [MAIN], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  const exit = outputOf(child, timeoutMs, 'main.ts');
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!/"msg":"gatehouse ready"/.test(stdout)) return;
      child.stdout.off('data', onData);
      child.kill('SIGKILL');
      reject(new Error(`main.ts started serving instead of exiting: ${stdout}`));
    };
    child.stdout.on('data', onData);
    exit.then(resolve, reject);
  });
}

export interface ServingProcess {
  readonly url: string;
  readonly child: import('node:child_process').ChildProcess;
  output(): string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `node src/main.ts` and resolves once it logs that it is ready. */
export function serveMain(env: Record<string, string>, timeoutMs = 90_000): Promise<ServingProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server not ready within ${timeoutMs} ms: ${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /"listening":"(http:\/\/[^"]+)".*"msg":"gatehouse ready"/.exec(output);
      if (ready !== null) {
        clearTimeout(timer);
        resolve({
          url: ready[1]!,
          child,
          output: () => output,
          stop: (signal = 'SIGTERM') => {
            child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it was ready: ${output}`));
    });
  });
}

export const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/**
 * Runs a gatehouse command line in this process: src/cli/cli.ts, what the binary runs, with
 * exactly the given arguments, environment (plus PATH) and standard input, minus the start of a
 * Node process (seconds on a busy machine). `spawnCli` runs the real binary.
 */
export async function runCli(args: string[], env: Record<string, string>, stdin?: string): Promise<Exit> {
  let stdout = '';
  let stderr = '';
  const code = await cli(args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    stdin: Readable.from(stdin === undefined || stdin === '' ? [] : [Buffer.from(stdin)]),
  });
  return { code, signal: null, stdout, stderr };
}

/** Runs the gatehouse CLI binary (`node src/cli/main.ts`) with the given arguments, environment and optional stdin. */
export function spawnCli(args: string[], env: Record<string, string>, stdin?: string): Promise<Exit> {
  const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  const exit = outputOf(child);
  child.stdin.end(stdin ?? '');
  return exit;
}

/** Runs the CLI binary with its V8 old space capped at `heapMiB` (--max-old-space-size): the memory tests' limit. */
export function spawnCappedCli(args: string[], env: Record<string, string>, heapMiB: number): Promise<Exit> {
  const child = spawn(process.execPath, [`--max-old-space-size=${heapMiB}`, CLI, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  return outputOf(child, undefined, `gatehouse ${args.slice(0, 2).join(' ')} with ${heapMiB} MiB of heap`);
}

/** Kills a test-owned server process at once and waits until it has exited. */
export async function killChild(child: import('node:child_process').ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
