import type { BenchClient, BenchUser } from './fixture.ts';
import { completeSignIn } from './flows.ts';
import { percentile } from './stats.ts';

export interface SignInMeasured {
  readonly signIns: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly firstError?: string;
}

/**
 * Closed loop of `concurrency` users, each doing complete sign-ins (fresh cookie jar each time)
 * until the time is up.
 */
export function loadSignIns(base: string, client: BenchClient, users: readonly BenchUser[], seconds: number, concurrency: number): Promise<SignInMeasured> {
  return loadSignInsWith((user) => completeSignIn(base, client, user), users, seconds, concurrency);
}

/** The same closed loop around any server's complete sign-in (bench/vs-keycloak.ts). */
export async function loadSignInsWith(signInOnce: (user: BenchUser) => Promise<unknown>, users: readonly BenchUser[], seconds: number, concurrency: number): Promise<SignInMeasured> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let next = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const user = users[next++ % users.length]!;
      const begun = performance.now();
      try {
        await signInOnce(user);
        latencies.push(performance.now() - begun);
      } catch (error) {
        errors += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    signIns: latencies.length,
    seconds: elapsed,
    perSecond: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    errors,
    ...(firstError === undefined ? {} : { firstError }),
  };
}
