import type { RotationMarker } from './mongo-documents.ts';
import { withinReuseWindow } from './reuse-window.ts';

/** What a rotation knows of itself when it meets its token's rotation marker. */
export interface RotationView {
  /** When it claimed the token: the reuse window is judged from here. */
  readonly atMs: number;
  /** When its request found the token. */
  readonly foundAtMs: number;
  /** Whether that find read the marker (then the library judged reuse itself). */
  readonly markerRead: boolean;
}

/** What a rotation meeting its token's marker knows: itself, the time, the window, its successor. */
export interface MarkerMeeting {
  /** This rotation's view of itself; undefined when its claim was not kept (outside a scope, pushed out). */
  readonly rotation: RotationView | undefined;
  readonly atMs: number;
  readonly windowSeconds: number;
  /** The successor this rotation writes with its marker (a completion), if any. */
  readonly successorId?: string | undefined;
}

/**
 * A rotation found its token's marker where it expected none (the Redis claim was held, or its
 * completion's insert hit the marker's `_id`):
 * - `ours`: the marker names this rotation's own successor — an earlier send of this same
 *   completion committed and its reply was lost (a retried insert): it completed;
 * - `window`: another rotation completed inside the reuse window (from the first rotation, as this
 *   one's claim saw it) — this rotation goes ahead too;
 * - `reuse`: another rotation completed before this request's find, which did not read the
 *   marker — the token was used after its rotation, as the library would have judged it had its
 *   find seen the marker (the same millisecond counts as before: a reuse is never let off on a tie);
 * - `lost`: completed after this request's find, or this rotation cannot tell (no view of itself):
 *   a race lost, refused without revoking anything.
 */
export function markerVerdict(marker: Pick<RotationMarker, 'rotatedAtMs' | 'successorId'>, { rotation, atMs, windowSeconds, successorId }: MarkerMeeting): 'ours' | 'window' | 'reuse' | 'lost' {
  if (successorId !== undefined && marker.successorId === successorId) return 'ours';
  if (withinReuseWindow(marker.rotatedAtMs, windowSeconds, rotation?.atMs ?? atMs)) return 'window';
  if (rotation !== undefined && !rotation.markerRead && marker.rotatedAtMs <= rotation.foundAtMs) return 'reuse';
  return 'lost';
}
