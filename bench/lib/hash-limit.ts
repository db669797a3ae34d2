import { availableParallelism } from 'node:os';
import { hash } from '@node-rs/argon2';
import type { Argon2Params } from '../../src/accounts/argon2-params.ts';
import { median } from './stats.ts';

/** `Algorithm.Argon2id` is a const enum in the typings, which type stripping cannot inline. */
const ARGON2ID = 2;

export interface HashLimit {
  readonly cores: number;
  readonly medianHashMs: number;
  /** cores ÷ median single-hash time: sign-ins per second the machine can verify at best. */
  readonly perSecond: number;
  /**
   * CPU time of one hash (this process's user + system time over the timed hashes, the libuv
   * thread that ran them included): on a loaded machine a hash waits for a core and its wall
   * time grows, its CPU time much less.
   */
  readonly cpuMsPerHash: number;
  /** cores ÷ a hash's CPU time: the same limit by CPU, which holds on a loaded machine. */
  readonly perSecondByCpu: number;
}

/** Times single argon2id hashes one after another, with the servers idle, in this run. */
export async function measureHashLimit(params: Argon2Params, samples: number): Promise<HashLimit> {
  const options = { algorithm: ARGON2ID, memoryCost: params.memoryKiB, timeCost: params.iterations, parallelism: params.parallelism };
  await hash('warm-up password', options);
  const times: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let index = 0; index < samples; index += 1) {
    const started = performance.now();
    await hash(`bench password ${index}`, options);
    times.push(performance.now() - started);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMsPerHash = (cpu.user + cpu.system) / 1000 / samples;
  const cores = availableParallelism();
  const medianHashMs = median(times);
  return { cores, medianHashMs, perSecond: (cores * 1000) / medianHashMs, cpuMsPerHash, perSecondByCpu: (cores * 1000) / cpuMsPerHash };
}
