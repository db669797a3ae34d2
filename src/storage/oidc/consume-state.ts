import type { OidcDocument } from './mongo-documents.ts';

/** The part of a single-use record `consume` decides on. */
export type ConsumeState = Pick<OidcDocument, 'expiresAt' | 'consumed' | 'consumedAtMs' | 'grantId'> & {
  /** When it was read; a refresh token's rotation completed before this was reuse. */
  readonly foundAtMs: number;
  /** Whether a refresh token's rotation marker was read with it (consumed/consumedAtMs then include it). */
  readonly markerRead: boolean;
};

export function consumeStateOf(doc: OidcDocument, foundAtMs: number, markerRead: boolean): ConsumeState {
  return { expiresAt: doc.expiresAt, consumed: doc.consumed, consumedAtMs: doc.consumedAtMs, grantId: doc.grantId, foundAtMs, markerRead };
}

/**
 * What `find` just read of a single-use record, for the `consume` that oidc-provider calls
 * moments later in the same request (it finds a code or refresh token, checks it, then consumes
 * it): consume needs the record's expiry and consumption state, and taking them from here saves
 * it a second read. Kept briefly (`maxAgeMs`) and bounded (`entries`); a miss falls back to reading.
 */
export interface JustFound {
  remember(key: string, state: ConsumeState): void;
  take(key: string, atMs: number): ConsumeState | undefined;
}

export function createJustFound(entries: number, maxAgeMs: number): JustFound {
  const found = new Map<string, ConsumeState>();
  return {
    remember(key, state) {
      found.delete(key);
      found.set(key, state);
      if (found.size > entries) found.delete(found.keys().next().value!);
    },
    take(key, atMs) {
      const state = found.get(key);
      found.delete(key);
      return state !== undefined && atMs - state.foundAtMs < maxAgeMs ? state : undefined;
    },
  };
}
