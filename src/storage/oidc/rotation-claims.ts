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

/** Where one request keeps its rotation's claim: the refresh grant's scope (refresh-grant-context.ts). */
export interface ClaimHolder {
  claimed?: { readonly tokenId: string; readonly claim: RotationClaim } | undefined;
}

/**
 * The claims of the rotations this instance has not completed yet, for their completion: a
 * marker already there is accepted only inside the reuse window as seen from the claim, and is
 * reuse when it predates the request's find; and whether the rotation holds the Redis claim, to
 * give it back should it fail.
 *
 * Per rotation: inside a refresh grant's scope (every rotation the server runs) the claim is
 * kept in the request's own scope, so two rotations of one token on one instance — a client's
 * concurrent refreshes inside the reuse window — each complete or give back their own claim (by
 * token id, the second overwrote the first's, whose Redis claim then stayed after its failure:
 * the client's retry was refused until the hold ran out). Outside a scope (the adapter driven
 * directly) the adapter calls carry nothing of the request, so claims are kept by token id,
 * bounded; a missing entry counts from the completion (and its Redis claim then simply runs out).
 */
export interface RotationClaims {
  remember(tokenId: string, claim: RotationClaim): void;
  /** The claim of the rotation of `tokenId` being completed or abandoned, forgotten here. */
  take(tokenId: string): RotationClaim | undefined;
}

export function createRotationClaims(bound: number, scope: () => ClaimHolder | undefined = () => undefined): RotationClaims {
  const claims = new Map<string, RotationClaim>();
  return {
    remember(tokenId, claim) {
      const holder = scope();
      if (holder !== undefined) {
        holder.claimed = { tokenId, claim };
        return;
      }
      claims.delete(tokenId);
      claims.set(tokenId, claim);
      if (claims.size > bound) claims.delete(claims.keys().next().value!);
    },
    take(tokenId) {
      const holder = scope();
      if (holder?.claimed?.tokenId === tokenId) {
        const { claim } = holder.claimed;
        holder.claimed = undefined;
        return claim;
      }
      const claim = claims.get(tokenId);
      claims.delete(tokenId);
      return claim;
    },
  };
}
