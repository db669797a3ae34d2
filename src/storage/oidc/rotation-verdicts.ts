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

/**
 * A rotation found its token's marker where it expected none (the Redis claim was held, or its
 * completion's insert hit the marker's `_id`): another rotation of the token completed.
 * - `window`: inside the reuse window (from the first rotation, as this one's claim saw it) —
 *   this rotation goes ahead too;
 * - `reuse`: completed before this request's find, which did not read the marker — the token was
 *   used after its rotation, as the library would have judged it had its find seen the marker
 *   (the same millisecond counts as before: a reuse is never let off on a tie);
 * - `lost`: completed after this request's find, or this rotation cannot tell (no view of itself):
 *   a race lost, refused without revoking anything.
 */
export function markerVerdict(rotatedAtMs: number, rotation: RotationView | undefined, atMs: number, windowSeconds: number): 'window' | 'reuse' | 'lost' {
  if (withinReuseWindow(rotatedAtMs, windowSeconds, rotation?.atMs ?? atMs)) return 'window';
  if (rotation !== undefined && !rotation.markerRead && rotatedAtMs <= rotation.foundAtMs) return 'reuse';
  return 'lost';
}
