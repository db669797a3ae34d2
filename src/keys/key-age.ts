import { keyStatus, type KeySet } from './key-store.ts';

/**
 * How old, in seconds, the oldest key that signs right now is: for each algorithm the newest
 * active key signs (key-store.ts providerJwks), and the gauge shows the oldest of those, the one
 * a rotation is due for first. Undefined when no key signs (a key set still being made).
 */
export function signingKeyAgeSeconds(set: KeySet, now: Date): number | undefined {
  const signing = new Map<string, { readonly activateAt: Date; readonly createdAt: Date }>();
  for (const key of set.signingKeys) {
    if (keyStatus(key, now) !== 'active') continue;
    const seen = signing.get(key.alg);
    if (seen === undefined || key.activateAt > seen.activateAt) signing.set(key.alg, key);
  }
  if (signing.size === 0) return undefined;
  const oldest = Math.min(...[...signing.values()].map((key) => key.createdAt.getTime()));
  return Math.max(0, Math.floor((now.getTime() - oldest) / 1000));
}
