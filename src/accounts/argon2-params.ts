/** Cost parameters of argon2id. */
export interface Argon2Params {
  /** Memory in KiB (argon2 `m`). */
  readonly memoryKiB: number;
  /** Passes over memory (argon2 `t`). */
  readonly iterations: number;
  /** Lanes (argon2 `p`). */
  readonly parallelism: number;
}

/** OWASP Password Storage Cheat Sheet, argon2id option 2: m=19 MiB, t=2, p=1. */
export const OWASP_ARGON2_PARAMS: Argon2Params = Object.freeze({ memoryKiB: 19_456, iterations: 2, parallelism: 1 });

const PHC_ARGON2 = /^\$(argon2(?:id|i|d))\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

export interface ParsedArgon2Hash extends Argon2Params {
  readonly algorithm: 'argon2id' | 'argon2i' | 'argon2d';
  readonly version: number;
}

/** Reads the parameters out of a PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash); undefined if it is not one. */
export function parseArgon2Hash(hash: string): ParsedArgon2Hash | undefined {
  const match = PHC_ARGON2.exec(hash);
  if (match === null) return undefined;
  const [, algorithm, version, m, t, p] = match;
  return {
    algorithm: algorithm as ParsedArgon2Hash['algorithm'],
    version: Number(version),
    memoryKiB: Number(m),
    iterations: Number(t),
    parallelism: Number(p),
  };
}

/**
 * True when a stored hash was made with anything other than argon2id v1.3 at exactly the
 * current parameters. Exact, not "at least": lowering the cost on purpose (e.g. after a
 * capacity review) also migrates hashes on the next login.
 */
export function needsRehash(hash: string, current: Argon2Params): boolean {
  const parsed = parseArgon2Hash(hash);
  return (
    parsed === undefined ||
    parsed.algorithm !== 'argon2id' ||
    parsed.version !== 0x13 ||
    parsed.memoryKiB !== current.memoryKiB ||
    parsed.iterations !== current.iterations ||
    parsed.parallelism !== current.parallelism
  );
}
