import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildCommand, ChildEnv } from './storage-child.ts';

const CHILD = fileURLToPath(new URL('./storage-child.ts', import.meta.url));

/** Runs one command in a fresh Node process (storage-child.ts) and returns its JSON answer. */
export function runStorageChild(env: ChildEnv, command: ChildCommand, timeoutMs = 20_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify({ env, command })], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`storage child timed out; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`storage child exited with ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop() ?? 'null'));
    });
  });
}
