import type { ConsumeState } from './consume-state.ts';

/** What a refresh-token rotation's completion needs from its consume. */
export interface RotationClaim {
  readonly atMs: number;
  /** This rotation holds the Redis claim (and gives it back should it fail). */
  readonly inRedis: boolean;
  readonly foundAtMs: number;
  readonly markerRead: boolean;
  readonly expiresAt?: Date | undefined;
  readonly grantId?: string | undefined;
}

export function claimOf(state: ConsumeState, atMs: number, inRedis: boolean): RotationClaim {
  return { atMs, inRedis, foundAtMs: state.foundAtMs, markerRead: state.markerRead, expiresAt: state.expiresAt, grantId: state.grantId };
}

/**
 * The claims of the rotations this instance has not completed yet, for their completion: a
 * marker already there is accepted only inside the reuse window as seen from the claim, and is
 * reuse when it predates the request's find; and whether the rotation holds the Redis claim, to
 * give it back should it fail. Bounded; a missing entry counts from the completion (and its Redis
 * claim then simply runs out).
 */
export interface RotationClaims {
  remember(tokenId: string, claim: RotationClaim): void;
  /** The claim of the rotation of `tokenId` being completed or abandoned, forgotten here. */
  take(tokenId: string): RotationClaim | undefined;
}

export function createRotationClaims(bound: number): RotationClaims {
  const claims = new Map<string, RotationClaim>();
  return {
    remember(tokenId, claim) {
      claims.delete(tokenId);
      claims.set(tokenId, claim);
      if (claims.size > bound) claims.delete(claims.keys().next().value!);
    },
    take(tokenId) {
      const claim = claims.get(tokenId);
      claims.delete(tokenId);
      return claim;
    },
  };
}
