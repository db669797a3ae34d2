/**
 * What the MongoDB adapter's `upsert` resolves to (oidc-provider ignores the value): whether the
 * write created the record. A record that did not exist cannot be held by any instance's cache
 * (misses are never cached), so its creation needs no announcement (record-cache.ts).
 */
export interface UpsertOutcome {
  readonly created: boolean;
}

export function createdByUpsert(outcome: unknown): boolean {
  return typeof outcome === 'object' && outcome !== null && (outcome as Partial<UpsertOutcome>).created === true;
}
