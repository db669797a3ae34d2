import type { Clock } from '../../src/clock.ts';

export interface TestClock extends Clock {
  /** Moves the clock forward and waits until everything listening (the key ring) has caught up. */
  advance(ms: number): Promise<void>;
}

/**
 * A clock the test moves instead of sleeping: starts at the system time and then follows it,
 * plus every advance (so real time still passes as usual between steps).
 */
export function testClock(): TestClock {
  let offset = 0;
  const listeners = new Set<() => Promise<void>>();
  return {
    now: () => Date.now() + offset,
    onJump(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async advance(ms) {
      offset += ms;
      await Promise.all([...listeners].map((listener) => listener()));
    },
  };
}
