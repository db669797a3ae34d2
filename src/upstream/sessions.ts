import type { Connection } from 'mongoose';
import { removeRowsOfDeletedUsers } from '../accounts/deleted-user-rows.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import { takeOnce } from '../storage/take-once.ts';

/**
 * Which upstream provider a Gatehouse session was signed in through, and the upstream's ID
 * token for its end-session endpoint (`id_token_hint`). Keyed by the session's `uid` (stable
 * for the session's life; its cookie id changes at each sign-in). The ID token is sealed
 * (AES-256-GCM, the session uid as associated data) and never logged. Collection
 * `upstream_sessions`; rows go at sign-out, expire with the session otherwise (TTL index, or the
 * sweeper where the server has none: src/upstream/expiry.ts).
 */
export interface UpstreamSessionRecord {
  readonly provider: string;
  readonly accountId: string;
  /** undefined when the upstream sent none (kind oauth2). */
  readonly idToken: string | undefined;
}

export interface UpstreamSessions {
  remember(sessionUid: string, record: UpstreamSessionRecord, expiresAt: Date): Promise<void>;
  /** The record of a session (removed as it is read), when it has one that has not expired. */
  take(sessionUid: string): Promise<UpstreamSessionRecord | undefined>;
  forget(sessionUid: string): Promise<void>;
}

interface StoredSession {
  _id: string;
  provider: string;
  account_id: string;
  id_token_sealed: string | null;
  expires_at: Date;
}

export const UPSTREAM_SESSIONS_COLLECTION = 'upstream_sessions';
const aad = (uid: string) => `upstream-session:${uid}`;

export function createUpstreamSessions({ mongo, box, now = () => new Date() }: { mongo: Connection; box: SecretBox; now?: () => Date }): UpstreamSessions {
  const rows = () => mongo.db!.collection<StoredSession>(UPSTREAM_SESSIONS_COLLECTION);
  return {
    async remember(sessionUid, record, expiresAt) {
      const doc = {
        provider: record.provider,
        account_id: record.accountId,
        id_token_sealed: record.idToken === undefined ? null : box.seal(record.idToken, aad(sessionUid)),
        expires_at: expiresAt,
      };
      await rows().replaceOne({ _id: sessionUid }, doc, { upsert: true });
      // A sign-in finishing while its user is deleted leaves no row naming them (src/accounts/deleted-user-rows.ts).
      await removeRowsOfDeletedUsers(mongo.db!, UPSTREAM_SESSIONS_COLLECTION, 'account_id', [record.accountId]);
    },
    async take(sessionUid) {
      const doc = await takeOnce(rows(), sessionUid);
      if (doc === null || doc.expires_at.getTime() <= now().getTime()) return undefined;
      let idToken: string | undefined;
      try {
        idToken = doc.id_token_sealed === null ? undefined : box.open(doc.id_token_sealed, aad(sessionUid));
      } catch {
        idToken = undefined;
      }
      return { provider: doc.provider, accountId: doc.account_id, idToken };
    },
    async forget(sessionUid) {
      await rows().deleteOne({ _id: sessionUid });
    },
  };
}
