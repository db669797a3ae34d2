import type { AdapterFactory } from 'oidc-provider';
// The contract suite runs against oidc-provider's own in-memory adapter to prove it asserts the
// library's real semantics. The library does not export that adapter, so this is the one deep
// import into oidc-provider in the project; it has no type declarations.
// @ts-expect-error -- internal module without types
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';

/** A fresh, isolated in-memory store (no clock tolerance), as oidc-provider builds it. */
export function memoryAdapterFactory(): AdapterFactory {
  return (createMemoryAdapter as (clockTolerance: number) => AdapterFactory)(0);
}
