import { nextStatusChange, type KeySet } from './key-store.ts';

/**
 * What is derived from the key set at a moment (the public JWKS, ordered by signing
 * preference), computed once per key set and reused until the set changes or one of its keys
 * changes status by time (nextStatusChange), instead of on every request. A clock that went back
 * (tests move it) computes again.
 */
export function keySetView<T>(keySet: () => KeySet, now: () => number, derive: (set: KeySet, at: Date) => T): () => T {
  let memo: { set: KeySet; from: number; until: number; value: T } | undefined;
  return () => {
    const set = keySet();
    const at = now();
    if (memo === undefined || memo.set !== set || at < memo.from || at >= memo.until) {
      const moment = new Date(at);
      memo = { set, from: at, until: nextStatusChange(set, moment)?.getTime() ?? Number.POSITIVE_INFINITY, value: derive(set, moment) };
    }
    return memo.value;
  };
}
