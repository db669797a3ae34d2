import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childEnv, outputOf } from './process.ts';
import type { ChildCommand, ChildEnv } from './storage-child.ts';

const CHILD = fileURLToPath(new URL('./storage-child.ts', import.meta.url));

/** Runs one command in a fresh Node process (storage-child.ts) and returns its JSON answer. */
export async function runStorageChild(env: ChildEnv, command: ChildCommand, timeoutMs = 20_000): Promise<unknown> {
  const child = spawn(process.execPath, [CHILD, JSON.stringify({ env, command })], { env: { ...process.env, ...childEnv({}) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const { code, stdout, stderr } = await outputOf(child, timeoutMs, 'storage child');
  if (code !== 0) throw new Error(`storage child exited with ${code}: ${stderr}`);
  return JSON.parse(stdout.trim().split('\n').pop() ?? 'null');
}
