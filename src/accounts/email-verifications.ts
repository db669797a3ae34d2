import type { Connection, mongo } from 'mongoose';
import { ensureExpiryIndex } from '../storage/expiry.ts';
import { removeRowsOfDeletedUsers } from './deleted-user-rows.ts';
import { linkTokenId, newLinkToken, wellFormedLinkToken } from './link-tokens.ts';
import { emailKey } from './normalize.ts';
import { takeOnce } from '../storage/take-once.ts';

const COLLECTION = 'email_verifications';

/** An account that exists once its address is confirmed (self-registration); the password only as its hash. */
export interface PendingAccount {
  readonly name: string | null;
  readonly passwordHash: string;
}

interface VerificationRecord {
  /** SHA-256 of the token (base64url): the link's token is never stored. */
  _id: string;
  /** The user whose address this confirms; null for a pending registration. */
  userId: string | null;
  /** The address the link confirms: a changed address is not confirmed by an old link. */
  email: string;
  /** One live link per user, or per address for registrations. */
  owner: string;
  /** Where the person continues afterwards (a sign-in's page path), if the link came from one. */
  returnTo: string | null;
  pending: PendingAccount | null;
  /** The link confirms a new address the user asked for on their account page (kind `change`). */
  change?: boolean;
  expiresAt: Date;
}

export type VerificationTicket =
  | { readonly kind: 'address'; readonly userId: string; readonly email: string; readonly returnTo: string | null }
  | { readonly kind: 'change'; readonly userId: string; readonly email: string; readonly returnTo: string | null }
  | { readonly kind: 'registration'; readonly email: string; readonly returnTo: string | null; readonly pending: PendingAccount };

export interface EmailVerifications {
  /**
   * A new single-use token; earlier unused ones for the same user (or registering address) stop
   * working. Undefined when the user was deleted meanwhile: the link is gone again, nothing to mail.
   */
  issue(ticket: VerificationTicket): Promise<string | undefined>;
  /** The ticket of a token while it is unused and unexpired; consumes nothing. */
  check(token: string): Promise<VerificationTicket | undefined>;
  /** Uses the token up (exactly one caller wins). */
  consume(token: string): Promise<VerificationTicket | undefined>;
  /** The address a user asked to change to and has not confirmed yet (their live `change` link), if any. */
  pendingChange(userId: string): Promise<{ readonly email: string; readonly expiresAt: Date } | undefined>;
  /** Forgets the user's pending address change (its link stops working); whether there was one. */
  cancelChange(userId: string): Promise<boolean>;
}

export interface EmailVerificationsDeps {
  readonly mongo: Connection;
  /** How long a new link works, read when it is issued (a runtime setting, src/settings/). */
  readonly ttlSeconds: () => Promise<number>;
  readonly now?: () => number;
}


function ticketOf(record: VerificationRecord): VerificationTicket {
  const { email, returnTo } = record;
  if (record.change === true && record.userId !== null) return { kind: 'change', userId: record.userId, email, returnTo };
  return record.pending === null || record.userId !== null
    ? { kind: 'address', userId: record.userId!, email, returnTo }
    : { kind: 'registration', email, returnTo, pending: record.pending };
}

/** The owner of a user's link for their current address (one live link each). */
export const addressOwner = (userId: string) => `user:${userId}`;
/** The owner of a user's link for a new address they asked for and have not confirmed (one live link each). */
export const changeOwner = (userId: string) => `change:${userId}`;

/**
 * Email-verification tokens, like password-reset tokens: 256 random bits in the link, only their
 * hash at rest, one live token per user (or registering address), expiry checked on every read.
 */
export async function openEmailVerifications({ mongo: connection, ttlSeconds, now = Date.now }: EmailVerificationsDeps): Promise<EmailVerifications> {
  const records = connection.db!.collection<VerificationRecord>(COLLECTION) as mongo.Collection<VerificationRecord>;
  await records.createIndex({ owner: 1 });
  await ensureExpiryIndex(records, 'expiresAt');
  const live = (record: VerificationRecord | null) => (record !== null && record.expiresAt.getTime() > now() ? ticketOf(record) : undefined);

  return {
    async issue(ticket) {
      const token = newLinkToken();
      // A pending change has its own owner: the link that confirms the current address keeps working beside it.
      const owner = ticket.kind === 'address' ? addressOwner(ticket.userId) : ticket.kind === 'change' ? changeOwner(ticket.userId) : `email:${emailKey(ticket.email)}`;
      await records.deleteMany({ $or: [{ owner }, { expiresAt: { $lte: new Date(now()) } }] });
      await records.insertOne({
        _id: linkTokenId(token),
        userId: ticket.kind === 'registration' ? null : ticket.userId,
        email: ticket.email,
        owner,
        returnTo: ticket.returnTo,
        pending: ticket.kind === 'registration' ? ticket.pending : null,
        ...(ticket.kind === 'change' ? { change: true } : {}),
        expiresAt: new Date(now() + (await ttlSeconds()) * 1000),
      });
      // Issued while the user was being deleted: the link (with the address it names) does not outlive them (src/accounts/deleted-user-rows.ts).
      if (ticket.kind !== 'registration' && (await removeRowsOfDeletedUsers(connection.db!, COLLECTION, 'userId', [ticket.userId])) > 0) return undefined;
      return token;
    },
    async check(token) {
      if (!wellFormedLinkToken(token)) return undefined;
      return live(await records.findOne({ _id: linkTokenId(token) }));
    },
    async consume(token) {
      if (!wellFormedLinkToken(token)) return undefined;
      return live(await takeOnce(records, linkTokenId(token)));
    },
    async pendingChange(userId) {
      const record = await records.findOne({ owner: changeOwner(userId), expiresAt: { $gt: new Date(now()) } });
      return record === null ? undefined : { email: record.email, expiresAt: record.expiresAt };
    },
    async cancelChange(userId) {
      return (await records.deleteMany({ owner: changeOwner(userId) })).deletedCount > 0;
    },
  };
}
