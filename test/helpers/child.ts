import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childEnv, outputOf, type Exit } from './process.ts';
import type { ChildCommand, ChildEnv } from './storage-child.ts';

const CHILD = fileURLToPath(new URL('./storage-child.ts', import.meta.url));

function answerOf({ code, stdout, stderr }: Exit): unknown {
  if (code !== 0) throw new Error(`storage child exited with ${code}: ${stderr}`);
  return JSON.parse(stdout.trim().split('\n').pop() ?? 'null');
}

/**
 * How long a storage child may take before it is killed and its test fails: only a backstop
 * that turns a hang into a failure. A Node start with the adapters' imports is about a second
 * of CPU, which took over 20 s of wall time at load 29 on the shared 2 cores.
 */
const CHILD_LIMIT_MS = 90_000;

/** Runs one command in a fresh Node process (storage-child.ts) and returns its JSON answer. */
export async function runStorageChild(env: ChildEnv, command: ChildCommand, timeoutMs = CHILD_LIMIT_MS): Promise<unknown> {
  const child = spawn(process.execPath, [CHILD, JSON.stringify({ env, command })], { env: { ...process.env, ...childEnv({}) }, stdio: ['ignore', 'pipe', 'pipe'] });
  return answerOf(await outputOf(child, timeoutMs, 'storage child'));
}

/**
 * Runs one command in `count` fresh processes that begin it together, for a race between
 * processes: each connects, says it is ready and waits; once all are, all are told to go. A
 * barrier, not a clock: however slowly a busy machine starts them, none is done before another
 * has begun. The answers in the order of the processes.
 */
export async function runStorageChildrenTogether(env: ChildEnv, command: ChildCommand, count: number, timeoutMs = CHILD_LIMIT_MS): Promise<unknown[]> {
  const input = JSON.stringify({ env, command, together: true });
  const children = Array.from({ length: count }, () => spawn(process.execPath, [CHILD, input], { env: { ...process.env, ...childEnv({}) }, stdio: ['pipe', 'pipe', 'pipe'] }));
  const exits = children.map((child) => outputOf(child, timeoutMs, 'storage child'));
  const ready = (child: (typeof children)[number], exit: Promise<Exit>) =>
    new Promise<void>((resolve, reject) => {
      let seen = '';
      child.stdout.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.startsWith('ready\n')) resolve();
      });
      exit.then((ended) => reject(new Error(`storage child ended before it was ready (${ended.code}): ${ended.stderr}`)), reject);
    });
  try {
    await Promise.all(children.map((child, index) => ready(child, exits[index]!)));
  } catch (error) {
    for (const child of children) child.kill('SIGKILL');
    await Promise.allSettled(exits);
    throw error;
  }
  for (const child of children) child.stdin.end('go\n');
  return (await Promise.all(exits)).map(answerOf);
}
