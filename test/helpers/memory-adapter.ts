import type { Adapter, AdapterFactory } from 'oidc-provider';
// The contract suite runs against oidc-provider's own in-memory adapter to prove it asserts the
// library's real semantics. The library does not export that adapter, so this is the one deep
// import into oidc-provider in the project; it has no type declarations.
// @ts-expect-error -- internal module without types
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';
import type { Clock } from '../../src/clock.ts';

/**
 * A fresh, isolated in-memory store (no clock tolerance), as oidc-provider builds it. With a
 * `clock`, its expiry follows that clock: the library reads `Date.now()` for expiry and
 * consumption times, and every method does so synchronously before its first await, so
 * `Date.now` is that clock's only while a call starts and nothing else in the process sees it.
 */
export function memoryAdapterFactory(clock?: Clock): AdapterFactory {
  const factory = (createMemoryAdapter as (clockTolerance: number) => AdapterFactory)(0);
  if (clock === undefined) return factory;
  return (model) => {
    const adapter = factory(model);
    const onClock =
      (method: keyof Adapter) =>
      (...args: unknown[]) => {
        const systemNow = Date.now;
        Date.now = clock.now;
        try {
          return (adapter[method] as (...a: unknown[]) => unknown).apply(adapter, args);
        } finally {
          Date.now = systemNow;
        }
      };
    return {
      upsert: onClock('upsert'),
      find: onClock('find'),
      findByUid: onClock('findByUid'),
      findByUserCode: onClock('findByUserCode'),
      consume: onClock('consume'),
      destroy: onClock('destroy'),
      revokeByGrantId: onClock('revokeByGrantId'),
    } as Adapter;
  };
}
