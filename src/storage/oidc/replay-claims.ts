import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { AdapterPayload } from 'oidc-provider';
import { isDuplicateKey } from '../duplicate-key.ts';
import { collectionName } from './models.ts';
import { isExpired, toDocument, type OidcDocument } from './mongo-documents.ts';
import { redisKeys } from './redis-adapter.ts';
import { scripts } from './redis-scripts.ts';

export const REPLAY_DETECTION = 'ReplayDetection';

/**
 * How long a claim holds before oidc-provider's save gives the record its own expiry (moments
 * later). Longer than any DPoP proof or client assertion stays acceptable, so a save that never
 * comes (the process died) still leaves the jti refused for as long as it matters.
 */
export const CLAIM_SECONDS = 600;

/**
 * oidc-provider's ReplayDetection.unique(iss, jti) is `find(id)`, then — when nothing was found —
 * `save()`: two requests presenting the same DPoP proof or client assertion at once both find
 * nothing and both pass. The library answers a replay from `find` alone (unique() returns false,
 * and the caller raises its own `invalid_dpop_proof` / `invalid_client`), so the atomic step sits
 * there: `find` creates the record if it is absent, in one step a concurrent `find` cannot
 * interleave with, and reports "not found" only to the request that created it. The save that
 * follows overwrites the claim with the library's record and expiry.
 */
export interface ReplayClaims {
  /** undefined when this call created the record (first use), else the record already there (a replay). */
  claim(id: string): Promise<AdapterPayload | undefined>;
}

export function mongoReplayClaims(connection: Connection, now: () => number): ReplayClaims {
  const records = () => {
    const db = connection.db;
    if (db === undefined) throw new Error('MongoDB connection is not open');
    return db.collection<OidcDocument>(collectionName(REPLAY_DETECTION));
  };
  const insert = async (id: string): Promise<boolean> => {
    try {
      await records().insertOne(toDocument(id, { jti: id, kind: REPLAY_DETECTION }, CLAIM_SECONDS, now(), REPLAY_DETECTION));
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  };
  return {
    async claim(id) {
      // A unique `_id` insert succeeds exactly once, on MongoDB and FerretDB alike.
      if (await insert(id)) return undefined;
      const found = await records().findOne({ _id: id });
      if (found !== null && !isExpired(found, now())) return JSON.parse(found.payload) as AdapterPayload;
      // An expired record the sweeper has not removed yet (or one gone since): one more try.
      if (found !== null) await records().deleteOne({ _id: id, expiresAt: found.expiresAt });
      return (await insert(id)) ? undefined : { jti: id, kind: REPLAY_DETECTION };
    },
  };
}

export function redisReplayClaims(redis: Redis, prefix: string): ReplayClaims {
  const keys = redisKeys(prefix);
  return {
    async claim(id) {
      const payload = JSON.stringify({ jti: id, kind: REPLAY_DETECTION });
      const existing = (await scripts.claim.run(redis, [keys.record(REPLAY_DETECTION, id)], [payload, id, CLAIM_SECONDS])) as string | null;
      return existing === null ? undefined : (JSON.parse(existing) as AdapterPayload);
    },
  };
}
