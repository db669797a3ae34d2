import type { mongo } from 'mongoose';
import type { AdapterPayload } from 'oidc-provider';
import { isDuplicateKey } from '../duplicate-key.ts';
import type { ConsumeState } from './consume-state.ts';
import { createHeldSuccessors } from './held-successors.ts';
import { isExpired, isRotationMarkerId, rotationMarkerId, type ConsumptionDocument, type OidcDocument, type RotationMarker } from './mongo-documents.ts';
import { REFRESH_TOKEN } from './models.ts';
import { timed, type OperationHook } from './operation-hook.ts';
import { createRefreshGrantContext } from './refresh-grant-context.ts';
import { epochSeconds, withinReuseWindow } from './reuse-window.ts';
import type { RotationGate } from './rotation-gate.ts';
import { claimOf, createRotationClaims, type RotationClaim } from './rotation-claims.ts';
import { markerVerdict } from './rotation-verdicts.ts';
import { oidcLibrary } from './oidc-library.ts';
import { alreadyConsumed, consumedTargetMissing } from './single-use.ts';

/**
 * How long a claimed refresh-token rotation counts as still in flight: a second request with the
 * same token inside this time is refused (strict, no revocation); after it, the rotation is taken
 * to have failed and the token may rotate again. Never shorter than the reuse window.
 */
export const ROTATION_IN_FLIGHT_MS = 10_000;

/** Successors (and claims) held at once; beyond it (or after HELD_SUCCESSOR_MS) the oldest is written as usual. */
const HELD_SUCCESSORS = 10_000;
const HELD_SUCCESSOR_MS = 60_000;

export interface RefreshRotationDeps {
  /** `oidc_refresh_token`: the tokens and their rotation markers. */
  readonly tokens: () => mongo.Collection<OidcDocument>;
  /** MongoDB's single-use gate, when there is no rotation gate. */
  readonly consumption: () => mongo.Collection<ConsumptionDocument>;
  /** Refresh-token reuse window in seconds; 0 = strict rotation. */
  readonly reuseWindowSeconds: number;
  readonly now: () => number;
  readonly onOperation?: OperationHook | undefined;
  /**
   * Every rotation ends in complete() or abandon() (the server): each successor is held for the
   * completion's insert, and without a gate that insert's marker is the gate (nothing is written
   * at consume). Otherwise `oidc_consumption` is the gate at consume.
   */
  readonly deferSuccessors: boolean;
  /** Where rotations are claimed instead of `oidc_consumption` (Redis: rotation-gate.ts). */
  readonly gate?: RotationGate | undefined;
  /** Revokes the grant of a token reused after its rotation, when the rotation finds that out. */
  readonly revokeReusedGrant: (grantId: string) => Promise<void>;
}

/**
 * Refresh-token rotation on MongoDB, as the generic adapter (mongo-adapter.ts) delegates it for
 * the RefreshToken model: the claim at consume (Redis, or `oidc_consumption`), the successor held
 * back, and the completion — one insert of the successor and the rotation marker
 * `rotated:<old id>` — with reuse found out on the way revoking the grant (docs/STORAGE.md,
 * *Refresh tokens*).
 */
export interface RefreshRotation {
  /** A refresh token as find reports it: with its marker, except the refresh grant's own find. */
  find(id: string): Promise<{ readonly doc: OidcDocument | null; readonly markerRead: boolean }>;
  /** A refresh token read with its marker (a consume with no find to go on). */
  read(id: string): Promise<OidcDocument | null>;
  /** Claims the token for a rotation; it reads as consumed once complete() wrote its marker. */
  consume(id: string, state: ConsumeState, atMs: number): Promise<void>;
  /** Holds a rotation's successor for complete(); false: it is written as usual. */
  hold(doc: OidcDocument, payload: AdapterPayload, atMs: number): boolean;
  complete(id: string, successorId?: string): Promise<void>;
  abandon(id: string, successorId?: string): Promise<void>;
  inRefreshGrant<T>(refreshToken: string, run: () => T): T;
  reusedGrant(): string | undefined;
}

/** Which document of an `insert` command a duplicate key stopped (MongoBulkWriteError#writeErrors). */
function failedIndex(error: unknown): number | undefined {
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  const first = Array.isArray(writeErrors) ? (writeErrors[0] as { index?: unknown } | undefined) : (writeErrors as { index?: unknown } | undefined);
  return typeof first?.index === 'number' ? first.index : undefined;
}

export function createRefreshRotation({
  tokens,
  consumption,
  reuseWindowSeconds,
  now,
  onOperation,
  deferSuccessors,
  gate,
  revokeReusedGrant,
}: RefreshRotationDeps): RefreshRotation {
  const markers = tokens as unknown as () => mongo.Collection<RotationMarker>;
  const refreshGrants = createRefreshGrantContext();
  const writeSuccessor = (doc: OidcDocument) => tokens().replaceOne({ _id: doc._id }, doc, { upsert: true });
  const heldSuccessors = createHeldSuccessors(HELD_SUCCESSORS, HELD_SUCCESSOR_MS, (doc) =>
    timed(onOperation, REFRESH_TOKEN, 'mongodb', 'upsert', () => writeSuccessor(doc)),
  );
  const claims = createRotationClaims(HELD_SUCCESSORS, refreshGrants.current);
  const holdMs = Math.max(ROTATION_IN_FLIGHT_MS, reuseWindowSeconds * 1000);

  /**
   * Completions that failed after their insert may have committed (a reply lost to a network
   * error: the answer was 503), by token id: the successor nobody received. The client's retry
   * with the old token then meets a marker naming it; without this note that read as another
   * rotation — reuse, the grant revoked, with a strict window. One retry per note, within the
   * hold (longer than Retry-After). Any instance may get the retry, so the note is shared: in
   * Redis when there is a gate; else — or when Redis refused it — in `oidc_consumption`
   * (`lost:RefreshToken:<id>:<successor id>`, expiring with the hold), written off the failed
   * request's path (its completion just failed on MongoDB: the 503 must not wait for the store
   * again), and meanwhile — or should MongoDB refuse it too — in this instance's memory. Only a
   * failed completion writes a note, and only a rotation that meets a marker it cannot accept
   * otherwise (reuse, a lost race) reads one: the normal path pays nothing.
   */
  const lostHere = new Map<string, { readonly successorId: string; readonly untilMs: number }>();
  const lostNoteId = (id: string, successorId: string) => `lost:${REFRESH_TOKEN}:${id}:${successorId}`;
  async function noteLostReply(id: string, successorId: string, at: number): Promise<void> {
    if (gate !== undefined && (await gate.noteLostReply(`${REFRESH_TOKEN}:${id}`, successorId, holdMs).then(() => true, () => false))) return;
    lostHere.delete(id);
    lostHere.set(id, { successorId, untilMs: at + holdMs });
    if (lostHere.size > HELD_SUCCESSORS) lostHere.delete(lostHere.keys().next().value!);
    void consumption()
      .insertOne({ _id: lostNoteId(id, successorId), atMs: at, expiresAt: new Date(at + holdMs) })
      .then(
        () => {
          // Shared now: the note in MongoDB is the one every instance uses up.
          if (lostHere.get(id)?.successorId === successorId) lostHere.delete(id);
        },
        () => {},
      );
  }
  /** Whether a marker's successor is one a lost reply never delivered; `take` uses the note up. */
  async function lostReply(id: string, successorId: string | undefined, at: number, take: boolean): Promise<boolean> {
    if (successorId === undefined) return false;
    const here = lostHere.get(id);
    if (here !== undefined && here.successorId === successorId) {
      if (take || here.untilMs <= at) lostHere.delete(id);
      // Its copy in MongoDB may have landed since: used up with it (one retry per note).
      if (take) await consumption().deleteOne({ _id: lostNoteId(id, successorId) }).catch(() => {});
      return here.untilMs > at;
    }
    if (gate !== undefined && (await gate.lostReply(`${REFRESH_TOKEN}:${id}`, successorId, take).catch(() => false))) return true;
    // By `_id`, so that of two retries at once exactly one deletes it (on FerretDB too).
    const live = { _id: lostNoteId(id, successorId), expiresAt: { $gt: new Date(at) } };
    try {
      if (take) return (await consumption().deleteOne(live)).deletedCount === 1;
      return (await consumption().findOne(live, { projection: { _id: 1 } })) !== null;
    } catch {
      return false;
    }
  }

  /** A refresh token as it reads with its rotation: consumed from the first completed rotation on. */
  function withRotation(doc: OidcDocument, marker: RotationMarker | null | undefined): OidcDocument {
    if (marker === null || marker === undefined) return doc;
    const consumedAtMs = Math.min(doc.consumedAtMs ?? (doc.consumed === undefined ? Infinity : doc.consumed * 1000), marker.rotatedAtMs);
    return { ...doc, consumed: epochSeconds(consumedAtMs), consumedAtMs };
  }
  /** A refresh token and its rotation marker, read at once (two `_id` reads). */
  async function readRefreshToken(id: string, readMarker: boolean): Promise<OidcDocument | null> {
    // A rotation marker is never a token, whatever a client presents.
    if (isRotationMarkerId(id)) return null;
    const [doc, marker] = await Promise.all([tokens().findOne({ _id: id }), readMarker ? markers().findOne({ _id: rotationMarkerId(id) }) : undefined]);
    return doc === null ? null : withRotation(doc, marker);
  }

  /**
   * The presented refresh token was rotated before this request found it (its find did not read
   * the marker): reuse, as the library would have judged it. Its grant is revoked, the refresh
   * grant's scope remembers it (for the `grant.revoked` event), and the answer is invalid_grant.
   */
  async function reused(grantId: string | undefined): Promise<never> {
    if (grantId !== undefined) {
      const scope = refreshGrants.current();
      if (scope !== undefined) scope.reusedGrantId = grantId;
      await revokeReusedGrant(grantId);
    }
    throw new (oidcLibrary().errors.InvalidGrant)('refresh token already used');
  }

  /**
   * A consume that finds the token claimed (another rotation in flight, or one completed since)
   * when its find did not read the marker: a completed rotation is read now. Inside the reuse
   * window it is accepted ('window'); completed before this request's find, it is reuse.
   */
  async function completedRotation(id: string, state: ConsumeState, at: number): Promise<'window' | 'none'> {
    if (state.markerRead) return 'none';
    const marker = await markers().findOne({ _id: rotationMarkerId(id) });
    if (marker === null) return 'none';
    const verdict = markerVerdict(marker, { rotation: { atMs: at, foundAtMs: state.foundAtMs, markerRead: state.markerRead }, atMs: at, windowSeconds: reuseWindowSeconds });
    // The client's retry after a lost reply: its completion decides (and uses the note up).
    if (verdict !== 'window' && (await lostReply(id, marker.successorId, at, false))) return 'window';
    if (verdict === 'reuse') await reused(state.grantId);
    return verdict === 'window' ? 'window' : 'none';
  }

  /**
   * A rotation that handed nothing out gives its Redis claim back (compare-and-delete on its
   * time), so the client retrying after Retry-After is not refused for the rest of the hold —
   * which, with a strict reuse window, is what it would otherwise get. Best effort: if Redis is
   * what failed, the claim runs out with its hold.
   */
  async function releaseClaim(id: string, claim: RotationClaim | undefined): Promise<void> {
    if (gate === undefined || claim === undefined || !claim.inRedis) return;
    await gate.release(`${REFRESH_TOKEN}:${id}`, claim.atMs).catch(() => {});
  }

  /**
   * A refresh token is only claimed here; it reads as consumed once the response with its
   * successor is ready (complete writes the successor and the rotation marker in one insert). A
   * rotation that fails half-way (a store down while the new tokens are saved) then leaves it
   * usable instead of turning the client's retry into "reuse" that revokes the grant.
   */
  async function consume(id: string, state: ConsumeState, at: number): Promise<void> {
    if (isExpired(state, at)) throw consumedTargetMissing(REFRESH_TOKEN);
    const hold = holdMs;
    if (state.consumed !== undefined) {
      if (!withinReuseWindow(state.consumedAtMs ?? state.consumed * 1000, reuseWindowSeconds, at)) throw alreadyConsumed(REFRESH_TOKEN);
      claims.remember(id, claimOf(state, at, false));
      return;
    }
    if (gate !== undefined) {
      // The gate in Redis; the one MongoDB write of the rotation is its completion.
      const first = await gate.claim(`${REFRESH_TOKEN}:${id}`, at, hold);
      if (first !== undefined && !withinReuseWindow(first, reuseWindowSeconds, at)) {
        // Held: a rotation in flight, or one completed since (reuse when before this request's find).
        if ((await completedRotation(id, state, at)) !== 'window') throw alreadyConsumed(REFRESH_TOKEN);
      }
      claims.remember(id, claimOf(state, at, first === undefined));
      return;
    }
    if (deferSuccessors) {
      // Without Redis, in the server (every rotation ends in complete or abandon): no write at
      // consume. The completion's marker is the gate — its unique `_id` lets one rotation per
      // token through, and a rotation that meets it is judged there (window, lost race, reuse) —
      // so the rotation writes MongoDB once. What is given up is only the early refusal of a
      // concurrent duplicate: it is refused at its completion instead (docs/STORAGE.md).
      claims.remember(id, claimOf(state, at, false));
      return;
    }
    // The adapter driven directly (no completion guaranteed): MongoDB's oidc_consumption is the
    // gate at consume (a unique `_id` insert), as the adapter contract has it.
    const claim: ConsumptionDocument = { _id: `${REFRESH_TOKEN}:${id}`, atMs: at };
    if (state.expiresAt !== undefined) claim.expiresAt = state.expiresAt;
    try {
      await consumption().insertOne(claim);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const first = await consumption().findOne({ _id: claim._id });
      if ((first !== null && withinReuseWindow(first.atMs, reuseWindowSeconds, at)) || (await completedRotation(id, state, at)) === 'window') {
        claims.remember(id, claimOf(state, at, false));
        return;
      }
      if (first === null || at - first.atMs < hold) throw alreadyConsumed(REFRESH_TOKEN);
      // The token was claimed long ago but never rotated: that rotation failed (its response
      // was never ready), so this request takes the claim over. Every request taking over the
      // same stale claim inserts the same `_id`, so exactly one wins; the winner then moves the
      // claim's time forward. The token is read afresh first (the state above may come from
      // this request's find): a rotation completed since is reuse.
      const fresh = await readRefreshToken(id, true);
      if (fresh === null || fresh.consumed !== undefined) throw alreadyConsumed(REFRESH_TOKEN);
      try {
        await consumption().insertOne({ _id: `${claim._id}@${first.atMs}`, atMs: at, ...(claim.expiresAt === undefined ? {} : { expiresAt: claim.expiresAt }) });
      } catch (retry) {
        if (isDuplicateKey(retry)) throw alreadyConsumed(REFRESH_TOKEN);
        throw retry;
      }
      await consumption().replaceOne({ _id: claim._id }, claim);
    }
    claims.remember(id, claimOf(state, at, false));
  }

  /**
   * The rotation's one write: the successor and the rotation marker `rotated:<id>`, in that
   * order, in ONE `insert` command (one PostgreSQL transaction on FerretDB v1, where an update is
   * a read and a write). The marker's unique `_id` is the durable single-use check on every
   * MongoDB-wire server: a second completion for the same token fails there with a duplicate key,
   * whatever Redis remembers. Successor first: should the command stop between the two, the old
   * token is still unrotated and the successor nobody was given expires.
   */
  async function complete(id: string, successorId?: string): Promise<void> {
    const at = now();
    const successor = successorId === undefined ? undefined : heldSuccessors.take(successorId);
    const claim = claims.take(id);
    const marker: RotationMarker = { _id: rotationMarkerId(id), rotatedAtMs: at };
    if (successor !== undefined) marker.successorId = successor._id;
    const expiresAt = claim?.expiresAt ?? successor?.expiresAt;
    if (expiresAt !== undefined) marker.expiresAt = expiresAt;
    const grantId = claim?.grantId ?? successor?.grantId;
    if (grantId !== undefined) marker.grantId = grantId;
    let refused = false;
    await timed(onOperation, REFRESH_TOKEN, 'mongodb', 'completeRotation', async () => {
      const documents: Array<OidcDocument | RotationMarker> = successor === undefined ? [marker] : [successor, marker];
      try {
        await tokens().insertMany(documents as OidcDocument[], { ordered: true });
        return;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        if (successor !== undefined && failedIndex(error) === 0) {
          // The successor's id is already stored (cannot happen with fresh ids, but an insert is
          // not idempotent): replace it, then the marker alone.
          await writeSuccessor(successor);
          try {
            await markers().insertOne(marker);
            return;
          } catch (retry) {
            if (!isDuplicateKey(retry)) throw retry;
          }
        }
      }
      // The marker is there. Naming this rotation's successor, it is this very completion, sent
      // again after its reply was lost (a retried insert): done — the successor was written before
      // it, in the same command. Otherwise another rotation of this token completed: inside the
      // reuse window (as the claim saw it) this one completes too — its successor is written, the
      // first rotation's time stays; if not, it loses, and its successor, never handed out, goes.
      const first = await markers().findOne({ _id: marker._id });
      const verdict = first === null ? 'lost' : markerVerdict(first, { rotation: claim, atMs: at, windowSeconds: reuseWindowSeconds, successorId });
      if (verdict === 'ours' || verdict === 'window') return;
      if (first !== null && (await lostReply(id, first.successorId, at, true))) {
        // That marker is a completion of this token whose reply was lost (503): this is the
        // client's retry. It completes (its successor went in before the marker); the successor
        // nobody received goes.
        await tokens()
          .deleteOne({ _id: first.successorId })
          .catch(() => {});
        return;
      }
      refused = true;
      if (successor !== undefined) {
        await tokens()
          .deleteOne({ _id: successor._id })
          .catch(() => {});
      }
      // Rotated before this request found the token, which its find could not see: reuse.
      if (verdict === 'reuse') await reused(grantId);
      throw alreadyConsumed(REFRESH_TOKEN);
    }).catch(async (error: unknown) => {
      // The completion failed (the answer is 503): nothing was handed out and the old token is
      // unrotated — unless the insert committed and only its reply was lost: then the marker
      // names a successor nobody received, noted for the client's retry. Either way its claim
      // goes back. A refusal keeps it: the token was rotated elsewhere.
      if (!refused) {
        if (successor !== undefined) await noteLostReply(id, successor._id, at);
        await releaseClaim(id, claim);
      }
      throw error;
    });
  }

  async function abandon(id: string, successorId?: string): Promise<void> {
    if (successorId !== undefined) heldSuccessors.take(successorId);
    await releaseClaim(id, claims.take(id));
  }

  return {
    async find(id) {
      // The refresh grant's own find reads the token alone: its rotation's insert finds out
      // whether it was rotated already (complete). Everything else reads both.
      const markerRead = refreshGrants.current()?.refreshToken !== id;
      return { doc: await readRefreshToken(id, markerRead), markerRead };
    },
    read: (id) => readRefreshToken(id, true),
    consume,
    hold(doc, payload, atMs) {
      // Only the refresh grant's rotation creates a refresh token with `rotations`.
      if (!deferSuccessors || typeof payload.rotations !== 'number' || payload.rotations <= 0) return false;
      heldSuccessors.hold(doc, atMs);
      return true;
    },
    complete,
    abandon,
    inRefreshGrant: refreshGrants.run,
    reusedGrant: () => refreshGrants.current()?.reusedGrantId,
  };
}
