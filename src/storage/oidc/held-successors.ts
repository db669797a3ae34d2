import type { OidcDocument } from './mongo-documents.ts';

/**
 * Successors of refresh-token rotations, by id, not yet written. Holding the successor until the
 * response is ready writes it with the old token's rotation marker in one insert at completion,
 * and keeps the guarantee: a rotation whose response fails stores neither. A successor still held
 * after `maxAgeMs`, or pushed out by the bound, is written on its own (`writeAlone`) — writing one
 * that was never handed out is harmless; losing one that was would sign the client out.
 */
export interface HeldSuccessors {
  hold(doc: OidcDocument, atMs: number): void;
  /** The held successor, no longer held (undefined: none, or written on its own already). */
  take(id: string): OidcDocument | undefined;
}

export function createHeldSuccessors(bound: number, maxAgeMs: number, writeAlone: (doc: OidcDocument) => Promise<unknown>): HeldSuccessors {
  const held = new Map<string, { readonly doc: OidcDocument; readonly atMs: number }>();
  function releaseOverdue(atMs: number): void {
    for (const [id, entry] of held) {
      if (held.size <= bound && atMs - entry.atMs < maxAgeMs) break;
      held.delete(id);
      void writeAlone(entry.doc).catch(() => {});
    }
  }
  return {
    hold(doc, atMs) {
      held.set(doc._id, { doc, atMs });
      releaseOverdue(atMs);
    },
    take(id) {
      const entry = held.get(id);
      held.delete(id);
      return entry?.doc;
    },
  };
}
