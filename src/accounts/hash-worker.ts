import { getPriority, setPriority } from 'node:os';
import { isMainThread, parentPort } from 'node:worker_threads';
import { hashSync } from '@node-rs/argon2';
import type { Argon2Params } from './argon2-params.ts';
import { verifyStoredHash } from './password-verifier.ts';

/**
 * Runs in a worker thread: one argon2id operation at a time, synchronously, so the pool in
 * hash-pool.ts decides concurrency (one job per worker) instead of libuv's shared thread pool.
 */
export type HashJob =
  | { readonly id: number; readonly op: 'hash'; readonly password: string; readonly params: Argon2Params }
  | { readonly id: number; readonly op: 'verify'; readonly password: string; readonly hash: string };

export type HashReply =
  | { readonly id: number; readonly ok: true; readonly value: string | boolean }
  | { readonly id: number; readonly ok: false; readonly error: string };

/**
 * Hashing yields the CPU to the event loop: while sign-ins keep every worker busy, token,
 * introspection and page requests on the main thread still get the cores first. On Linux a
 * thread has its own nice value (setpriority on the calling thread); elsewhere it would renice
 * the whole process, so it is left alone there. The step is relative to the thread's inherited
 * value, so a niced service (or `nice npm test`) never hashes above its own event loop.
 */
export const HASH_WORKER_NICE = 10;
if (!isMainThread && process.platform === 'linux') {
  try {
    setPriority(Math.min(19, getPriority() + HASH_WORKER_NICE));
  } catch {
    // Not permitted (unusual for lowering priority): hash at normal priority.
  }
}

/** `Algorithm.Argon2id` in the typings is a const enum, which type stripping cannot inline. */
const ARGON2ID = 2;

function run(job: HashJob): string | boolean {
  if (job.op === 'hash') {
    return hashSync(job.password, {
      algorithm: ARGON2ID,
      memoryCost: job.params.memoryKiB,
      timeCost: job.params.iterations,
      parallelism: job.params.parallelism,
    });
  }
  // Gatehouse's argon2id hashes and imported ones (Keycloak's PBKDF2, argon2); a malformed stored
  // hash verifies nothing and must not look different from a wrong password.
  return verifyStoredHash(job.hash, job.password);
}

parentPort?.on('message', (job: HashJob) => {
  let reply: HashReply;
  try {
    reply = { id: job.id, ok: true, value: run(job) };
  } catch (error) {
    reply = { id: job.id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(reply);
});
