import type { Connection } from 'mongoose';
import { addressOwner, changeOwner } from './email-verifications.ts';

/**
 * The per-user records no service of their own erases, as a user's deletion finds them
 * (src/operations/user-deletion.ts lists what the services erase and what stays): each one a
 * collection and the field that names the user there (named here, not imported: src/upstream
 * depends on src/accounts, not the other way).
 */
export const PER_USER_RECORDS = [
  /** What the user agreed to give each application (src/consents/records.ts). */
  { collection: 'user_consents', field: 'accountId' },
  /** Where each sign-in session was used from (src/sessions/devices.ts). */
  { collection: 'session_devices', field: 'userId' },
  /** The upstream sign-in behind a session, for upstream logout (src/upstream/sessions.ts). */
  { collection: 'upstream_sessions', field: 'account_id' },
  /** One-time tickets that link an upstream identity from the account page (src/upstream/link-tickets.ts). */
  { collection: 'upstream_link_tickets', field: 'user_id' },
  /** Pending password-reset links (src/accounts/password-resets.ts). */
  { collection: 'password_resets', field: 'userId' },
  /** Pending invitations to set a first password (src/accounts/invitations.ts). */
  { collection: 'invitations', field: 'userId' },
  /**
   * Pending email-verification links: for the user's address (src/accounts/email-verifications.ts:
   * owner `user:<id>`) and for a new address they asked for on the account page (`change:<id>`).
   */
  { collection: 'email_verifications', field: 'owner', value: (userId: string) => ({ $in: [addressOwner(userId), changeOwner(userId)] }) },
  /** Digests of earlier passwords, for the policy's no-reuse rule (src/accounts/password-history.ts). */
  { collection: 'password_history', field: '_id' },
  /** The latest sign-in time (src/accounts/sign-ins.ts). */
  { collection: 'user_sign_ins', field: '_id' },
] as const;

export type ErasedRecords = Record<(typeof PER_USER_RECORDS)[number]['collection'], number>;

/** Deletes one user's records of PER_USER_RECORDS; how many went from each collection. Idempotent. */
export interface UserRecords {
  erase(userId: string): Promise<ErasedRecords>;
  /**
   * Ends the address change the user asked for and has not confirmed (its link stops working):
   * an operator who sets the address has the last word. Whether there was one.
   */
  endPendingEmailChange(userId: string): Promise<boolean>;
}

export function createUserRecords(mongo: Connection): UserRecords {
  return {
    async erase(userId) {
      const db = mongo.db;
      if (db === undefined) throw new Error('MongoDB connection is not open');
      const erased: Partial<ErasedRecords> = {};
      for (const record of PER_USER_RECORDS) {
        const value = 'value' in record ? record.value(userId) : userId;
        const { deletedCount } = await db.collection(record.collection).deleteMany({ [record.field]: value });
        erased[record.collection] = deletedCount;
      }
      return erased as ErasedRecords;
    },
    async endPendingEmailChange(userId) {
      const db = mongo.db;
      if (db === undefined) throw new Error('MongoDB connection is not open');
      return (await db.collection('email_verifications').deleteMany({ owner: changeOwner(userId) })).deletedCount > 0;
    },
  };
}
