import type { KeySet, RotationResult } from './key-store.ts';

/** What operators do to the signing keys: the server goes through its key ring, a CLI command through the store. */
export interface KeyControl {
  keySet(): Promise<KeySet | undefined>;
  /** Rotates now; `announced` says whether running instances were told at once (Redis) rather than at their next poll. */
  rotate(): Promise<RotationResult & { readonly announced: boolean }>;
}
