import type { Connection, mongo } from 'mongoose';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { ensureExpiryIndex } from '../storage/expiry.ts';
import { takeOnce } from '../storage/take-once.ts';
import { linkTokenId, newLinkToken, wellFormedLinkToken } from './link-tokens.ts';
import { addressKey } from './normalize.ts';

/** The reset links' collection; invitations (src/accounts/invitations.ts) are the same kind of link in their own. */
const COLLECTION = 'password_resets';
export const INVITATIONS_COLLECTION = 'invitations';
/** Every collection of links that set a password: a disabled user or a changed address ends them all. */
const PASSWORD_LINK_COLLECTIONS = [COLLECTION, INVITATIONS_COLLECTION] as const;

/** Where a link sends its holder once the password is set (an invitation's application, checked when sent). */
export interface ReturnTo {
  readonly clientId: string;
  readonly redirectUri: string;
}

interface ResetRecord {
  /** SHA-256 of the token (base64url): the link's token is never stored. */
  _id: string;
  userId: string;
  expiresAt: Date;
  /** Set once the user passed their second factor for this link (the new password may follow). */
  secondFactor?: string;
  /** The address the link was mailed to (addressKey, compared by its key again: one stored before the key changed still matches); the link works only while it is still the user's. */
  sentTo?: string;
  /** The user's passwordChangedAt (ms, or null for none) when the link was sent; any password change since ends the link. */
  passwordChangedAt?: number | null;
  /** Where the holder goes next (invitations sent for an application). */
  returnTo?: ReturnTo;
  /** When it was sent; absent on links sent before this was kept. */
  issuedAt?: Date;
}

/** What a reset link is bound to, read from the user at issue and again at every use. */
export interface ResetHolder {
  readonly email: string | null;
  readonly passwordChangedAt: Date | null;
  readonly disabled: boolean;
}

/**
 * Ends a user's reset links (a disabled user, a changed address): deleted, so nothing brings
 * them back (enabling the user again, changing the address back). Every other change that ends
 * a link (a new password by any path) is also found at the link's next use (ResetHolder).
 */
export async function forgetPasswordResets(db: Connection, userId: string): Promise<void> {
  for (const name of PASSWORD_LINK_COLLECTIONS) await db.collection<ResetRecord>(name).deleteMany({ userId });
}

/** A live reset link: whose it is, and which second factor (if any) was passed with it. */
export interface ResetTicket {
  readonly userId: string;
  /** `totp`, `recovery_code`, `passkey`, … once passed; undefined before. */
  readonly secondFactor: string | undefined;
  /** The application the link was sent for, if any. */
  readonly returnTo?: ReturnTo | undefined;
}

/** What an issue may set beyond the defaults. */
export interface IssueOptions {
  /** This link's lifetime instead of ttlSeconds() (an operator's invitation). */
  readonly ttlSeconds?: number | undefined;
  readonly returnTo?: ReturnTo | undefined;
}

export interface PasswordResets {
  /**
   * A new single-use token for the user; earlier unused ones of the same user stop working.
   * Undefined when the user was deleted meanwhile: the link is gone again, so nothing is mailed.
   */
  issue(userId: string, options?: IssueOptions): Promise<string | undefined>;
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
  /** The user a link is for, as it is now (undefined: no such user). */
  readonly holder: (userId: string) => Promise<ResetHolder | undefined>;
  /** How long a new link works, read when it is issued (a runtime setting, src/settings/). */
  readonly ttlSeconds: () => Promise<number>;
  readonly now?: () => number;
  /** The links' collection: `password_resets` unless given (invitations have their own). */
  readonly collection?: (typeof PASSWORD_LINK_COLLECTIONS)[number];
}

const ticketOf = (record: ResetRecord): ResetTicket => ({ userId: record.userId, secondFactor: record.secondFactor, returnTo: record.returnTo });

const changedAtOf = (holder: ResetHolder): number | null => holder.passwordChangedAt?.getTime() ?? null;

/** Whether a stored link still works at `at`: unexpired, and its user as they were when it was sent. */
async function linkWorks(record: ResetRecord | null, holder: PasswordResetsDeps['holder'], at: number): Promise<boolean> {
  if (record === null || record.expiresAt.getTime() <= at) return false;
  // A link stored without what it was sent for (before links were bound to it) is not trusted.
  if (record.sentTo === undefined || record.passwordChangedAt === undefined) return false;
  const user = await holder(record.userId);
  return user !== undefined && !user.disabled && addressKey(user.email) === addressKey(record.sentTo) && changedAtOf(user) === record.passwordChangedAt;
}

/** A user's link that still works, as an operator sees it (never its token, which is not stored). */
export interface PendingLink {
  /** null for a link sent before the time was kept. */
  readonly sentAt: Date | null;
  readonly expiresAt: Date;
  readonly returnTo?: ReturnTo | undefined;
}

/**
 * What an operator reads and ends of a user's links in `collection` without the link itself
 * (the console's pending invitation, `DELETE /users/{id}/invitation`): the one that still works,
 * and ending every one of them.
 */
export function userLinks(db: Connection, collection: (typeof PASSWORD_LINK_COLLECTIONS)[number], holder: PasswordResetsDeps['holder'], now: () => number = Date.now) {
  const records = () => db.collection<ResetRecord>(collection) as mongo.Collection<ResetRecord>;
  return {
    async pending(userId: string): Promise<PendingLink | undefined> {
      // One live link per user; refusal slots (`<hash>#<n>`) carry no address.
      const record = await records().findOne({ userId, sentTo: { $exists: true } }, { sort: { expiresAt: -1 } });
      if (record === null || !(await linkWorks(record, holder, now()))) return undefined;
      return { sentAt: record.issuedAt ?? null, expiresAt: record.expiresAt, ...(record.returnTo === undefined ? {} : { returnTo: record.returnTo }) };
    },
    /** Deletes the user's links (and their refusal slots); resolves to whether one of them still worked. */
    async revoke(userId: string): Promise<boolean> {
      const working = (await this.pending(userId)) !== undefined;
      await records().deleteMany({ userId });
      return working;
    },
  };
}

export type UserLinks = ReturnType<typeof userLinks>;

/**
 * Password-reset tokens: 256 random bits in the link, only their hash at rest, one live token
 * per user, expiry checked on every read (the TTL index or the deletes below clean up). A link
 * is bound to the address it was mailed to and the password the user had then: it works only
 * while the user is enabled, still has that address and has not changed their password since —
 * by whatever path (this link, the account page, an operator, the CLI, an import) — checked at
 * every use against the user as stored.
 */
export async function openPasswordResets({ mongo: connection, holder, ttlSeconds, now = Date.now, collection = COLLECTION }: PasswordResetsDeps): Promise<PasswordResets> {
  const records = connection.db!.collection<ResetRecord>(collection) as mongo.Collection<ResetRecord>;
  await records.createIndex({ userId: 1 });
  await ensureExpiryIndex(records, 'expiresAt');

  const works = (record: ResetRecord | null) => linkWorks(record, holder, now());

  async function live(token: string): Promise<ResetRecord | undefined> {
    if (!wellFormedLinkToken(token)) return undefined;
    const record = await records.findOne({ _id: linkTokenId(token) });
    return (await works(record)) ? (record as ResetRecord) : undefined;
  }

  return {
    async issue(userId, options = {}) {
      const user = await holder(userId);
      // Deleted since the caller read them: nothing to mail (the caller answers as for a user who never existed).
      if (user === undefined) return undefined;
      const sentTo = addressKey(user.email);
      if (sentTo === null) throw new Error('a reset link is only for a user with an address');
      const token = newLinkToken();
      await records.deleteMany({ $or: [{ userId }, { expiresAt: { $lte: new Date(now()) } }] });
      const lifetime = options.ttlSeconds ?? (await ttlSeconds());
      const returnTo = options.returnTo === undefined ? {} : { returnTo: { clientId: options.returnTo.clientId, redirectUri: options.returnTo.redirectUri } };
      const issuedAt = now();
      await records.insertOne({ _id: linkTokenId(token), userId, expiresAt: new Date(issuedAt + lifetime * 1000), sentTo, passwordChangedAt: changedAtOf(user), issuedAt: new Date(issuedAt), ...returnTo });
      // Issued while the user was being deleted: the link (with the address it names) does not outlive them (src/accounts/deleted-user-rows.ts).
      if ((await holder(userId)) === undefined) {
        await records.deleteMany({ userId });
        return undefined;
      }
      return token;
    },
    async check(token) {
      const record = await live(token);
      return record === undefined ? undefined : ticketOf(record);
    },
    async passSecondFactor(token, method) {
      if ((await live(token)) === undefined) return false;
      const result = await records.updateOne({ _id: linkTokenId(token), expiresAt: { $gt: new Date(now()) } }, { $set: { secondFactor: method } });
      return result.matchedCount === 1;
    },
    async consume(token) {
      if (!wellFormedLinkToken(token)) return undefined;
      const record = await takeOnce(records, linkTokenId(token));
      return (await works(record)) ? ticketOf(record as ResetRecord) : undefined;
    },
    async refuseReused(token) {
      const record = await live(token);
      if (record === undefined) return false;
      const id = record._id;
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
