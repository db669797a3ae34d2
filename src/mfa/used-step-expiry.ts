import type { mongo } from 'mongoose';
import { ensureExpiryIndex, startSweeper, type ExpiryDeps, type Sweeper } from '../storage/expiry.ts';
import { USED_STEPS_COLLECTION } from './model.ts';

/** `now`: the second factors' clock, the one the rows' expiry was computed with. */
export type UsedStepExpiryDeps = ExpiryDeps;

/**
 * Expiry of `mfa_used_steps` (the TOTP replay guard) by `expiresAt`: a TTL index where the server
 * has them (MongoDB); on FerretDB v1, which has none, the periodic expiry sweeper
 * (src/storage/expiry.ts, every 60 s and at a test clock's jumps). Rows written before they had an
 * expiry are removed once, at startup: the user's `lastTotpStep` refuses their steps anyway.
 * Resolves to the sweeper, when one runs.
 */
export async function startUsedStepExpiry({ mongo, logger, now, onClockJump, intervalMs = 60_000 }: UsedStepExpiryDeps): Promise<Sweeper | undefined> {
  const collection = mongo.db!.collection(USED_STEPS_COLLECTION) as unknown as mongo.Collection<mongo.Document>;
  await collection.deleteMany({ expiresAt: { $exists: false } });
  if (await ensureExpiryIndex(collection, 'expiresAt')) return undefined;
  return startSweeper({ targets: [{ collection, field: 'expiresAt' }], intervalMs, logger, ...(now === undefined ? {} : { now }), onClockJump });
}
