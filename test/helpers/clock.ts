import type { Clock } from '../../src/clock.ts';

export interface TestClock extends Clock {
  /** Moves the clock forward and waits until everything listening (the key ring) has caught up. */
  advance(ms: number): Promise<void>;
}

/**
 * A clock the test moves instead of sleeping: starts at the system time and then follows it,
 * plus every advance (so real time still passes as usual between steps). A `frozen` clock
 * stands still between advances: nothing on it expires however slow the machine is (a cache
 * entry cut off early then can only have been dropped by a change notice), and timers on it
 * (src/clock.ts clockTimer) fire only when the test moves it.
 */
export function testClock({ frozen = false }: { frozen?: boolean } = {}): TestClock {
  const startedAt = Date.now();
  let offset = 0;
  const listeners = new Set<() => Promise<void>>();
  return {
    now: () => (frozen ? startedAt : Date.now()) + offset,
    frozen,
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
