import type { Connection, mongo } from 'mongoose';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { ensureExpiryIndex } from '../storage/expiry.ts';
import { linkTokenId, newLinkToken, wellFormedLinkToken } from './link-tokens.ts';

const COLLECTION = 'password_resets';

interface ResetRecord {
  /** SHA-256 of the token (base64url): the link's token is never stored. */
  _id: string;
  userId: string;
  expiresAt: Date;
  /** Set once the user passed their second factor for this link (the new password may follow). */
  secondFactor?: string;
}

/** A live reset link: whose it is, and which second factor (if any) was passed with it. */
export interface ResetTicket {
  readonly userId: string;
  /** `totp`, `recovery_code`, `passkey`, … once passed; undefined before. */
  readonly secondFactor: string | undefined;
}

export interface PasswordResets {
  /** A new single-use token for the user; earlier unused ones of the same user stop working. */
  issue(userId: string): Promise<string>;
  /** The ticket of a token while it is unused and unexpired; consumes nothing. */
  check(token: string): Promise<ResetTicket | undefined>;
  /** Records that the user passed their second factor (`method`) with this link; false when the link no longer works. */
  passSecondFactor(token: string, method: string): Promise<boolean>;
  /** Uses the token up (exactly one caller wins); resolves to its ticket, or undefined. */
  consume(token: string): Promise<ResetTicket | undefined>;
  /**
   * Counts one new password refused as one of the user's remembered passwords. Such a refusal
   * tells the link's holder that a candidate IS the current or an earlier password, so a link
   * allows REUSE_REFUSALS_PER_LINK of them; the next uses the link up. False once the link no
   * longer works (used up now or before).
   */
  refuseReused(token: string): Promise<boolean>;
}

/** History refusals a reset link allows before it is used up (a typo or two, not a guessing oracle). */
export const REUSE_REFUSALS_PER_LINK = 3;

export interface PasswordResetsDeps {
  readonly mongo: Connection;
  /** How long a new link works, read when it is issued (a runtime setting, src/settings/). */
  readonly ttlSeconds: () => Promise<number>;
  readonly now?: () => number;
}

const ticketOf = (record: ResetRecord): ResetTicket => ({ userId: record.userId, secondFactor: record.secondFactor });

/**
 * Password-reset tokens: 256 random bits in the link, only their hash at rest, one live token
 * per user, expiry checked on every read (the TTL index or the deletes below clean up).
 */
export async function openPasswordResets({ mongo: connection, ttlSeconds, now = Date.now }: PasswordResetsDeps): Promise<PasswordResets> {
  const records = connection.db!.collection<ResetRecord>(COLLECTION) as mongo.Collection<ResetRecord>;
  await records.createIndex({ userId: 1 });
  await ensureExpiryIndex(records as unknown as mongo.Collection<mongo.Document>, 'expiresAt');

  return {
    async issue(userId) {
      const token = newLinkToken();
      await records.deleteMany({ $or: [{ userId }, { expiresAt: { $lte: new Date(now()) } }] });
      await records.insertOne({ _id: linkTokenId(token), userId, expiresAt: new Date(now() + (await ttlSeconds()) * 1000) });
      return token;
    },
    async check(token) {
      if (!wellFormedLinkToken(token)) return undefined;
      const record = await records.findOne({ _id: linkTokenId(token) });
      return record !== null && record.expiresAt.getTime() > now() ? ticketOf(record) : undefined;
    },
    async passSecondFactor(token, method) {
      if (!wellFormedLinkToken(token)) return false;
      const result = await records.updateOne({ _id: linkTokenId(token), expiresAt: { $gt: new Date(now()) } }, { $set: { secondFactor: method } });
      return result.matchedCount === 1;
    },
    async consume(token) {
      if (!wellFormedLinkToken(token)) return undefined;
      const record = await records.findOneAndDelete({ _id: linkTokenId(token) });
      return record !== null && record.expiresAt.getTime() > now() ? ticketOf(record) : undefined;
    },
    async refuseReused(token) {
      if (!wellFormedLinkToken(token)) return false;
      const id = linkTokenId(token);
      const record = await records.findOne({ _id: id });
      if (record === null || record.expiresAt.getTime() <= now()) return false;
      // One slot document per refusal, taken by a unique insert: atomic on every MongoDB-wire
      // server (FerretDB v1 has no atomic counter), so concurrent posts cannot share a slot. A slot
      // id (`<hash>#<n>`) is never a link's id (a bare hash); slots go with the user's next link
      // (issue) or their expiry.
      for (let slot = 1; slot <= REUSE_REFUSALS_PER_LINK; slot += 1) {
        try {
          await records.insertOne({ _id: `${id}#${slot}`, userId: record.userId, expiresAt: record.expiresAt });
          return true;
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
        }
      }
      await records.deleteOne({ _id: id });
      return false;
    },
  };
}
