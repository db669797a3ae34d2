import type { mongo } from 'mongoose';
import { ensureExpiryIndex, startSweeper, type ExpiryDeps, type Sweeper } from '../storage/expiry.ts';
import { LINK_TICKETS_COLLECTION } from './link-tickets.ts';
import { UPSTREAM_SESSIONS_COLLECTION } from './sessions.ts';

export type UpstreamExpiryDeps = ExpiryDeps;

/**
 * Expiry of `upstream_sessions` and `upstream_link_tickets` (both keyed by `expires_at`): TTL
 * indexes where the server has them (MongoDB); where it has none (FerretDB v1) the periodic
 * expiry sweeper (src/storage/expiry.ts) deletes what expired, so rows do not wait for the next
 * upstream sign-in. Reads check expiry either way. Resolves to the sweeper, when one runs.
 */
export async function startUpstreamExpiry({ mongo, logger, now, onClockJump, intervalMs = 60_000 }: UpstreamExpiryDeps): Promise<Sweeper | undefined> {
  const targets: Array<{ collection: mongo.Collection<mongo.Document>; field: string }> = [];
  for (const name of [UPSTREAM_SESSIONS_COLLECTION, LINK_TICKETS_COLLECTION]) {
    const collection = mongo.db!.collection(name) as unknown as mongo.Collection<mongo.Document>;
    if (!(await ensureExpiryIndex(collection, 'expires_at'))) targets.push({ collection, field: 'expires_at' });
  }
  if (targets.length === 0) return undefined;
  return startSweeper({ targets, intervalMs, logger, ...(now === undefined ? {} : { now }), onClockJump });
}
