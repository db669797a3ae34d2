import { Schema, type Connection, type Model } from 'mongoose';
import type { PasswordHasher } from './hash-pool.ts';

/**
 * The hashes of a user's earlier passwords (Keycloak's password history), one document per user
 * in `password_history`: newest first, never the passwords. Kept apart from the user document so
 * sign-ins never read them; written only when a password changes while the policy remembers some.
 */
export interface StoredPasswordHistory {
  _id: string;
  /** The replaced passwords' hashes (argon2id, or an imported format), newest first. */
  hashes: string[];
  updatedAt: Date;
}

const historySchema = new Schema<StoredPasswordHistory>(
  { _id: { type: String, required: true }, hashes: { type: [String], default: [] }, updatedAt: { type: Date, required: true } },
  { collection: 'password_history', versionKey: false, strict: 'throw', timestamps: false },
);

export type PasswordHistoryModel = Model<StoredPasswordHistory>;

export function passwordHistoryModel(connection: Connection): PasswordHistoryModel {
  return (connection.models.PasswordHistory as PasswordHistoryModel | undefined) ?? connection.model<StoredPasswordHistory>('PasswordHistory', historySchema);
}

export interface PasswordHistory {
  /**
   * Whether `password` is one of the user's last `remembered` passwords: the current one (its
   * hash given) and the `remembered - 1` before it. One verification per hash in the pool, in turn.
   */
  reused(userId: string, password: string, currentHash: string | null, remembered: number): Promise<boolean>;
  /** Keeps the replaced password's hash, and no more than `remembered - 1` hashes in all. */
  remember(userId: string, replacedHash: string | null, remembered: number): Promise<void>;
}

export function createPasswordHistory({ model, hasher, now = () => new Date() }: { model: PasswordHistoryModel; hasher: Pick<PasswordHasher, 'verify'>; now?: () => Date }): PasswordHistory {
  const earlier = async (userId: string) => (await model.findById(userId, { hashes: 1 }).lean<Pick<StoredPasswordHistory, 'hashes'>>().exec())?.hashes ?? [];
  return {
    async reused(userId, password, currentHash, remembered) {
      if (remembered <= 0) return false;
      const hashes = [...(currentHash === null ? [] : [currentHash]), ...(await earlier(userId)).slice(0, remembered - 1)];
      // One at a time, stopping at a match: a change must not crowd the pool sign-ins share.
      // A saturated pool throws (503) rather than letting a remembered password through.
      for (const hash of hashes) if (await hasher.verify(hash, password)) return true;
      return false;
    },
    async remember(userId, replacedHash, remembered) {
      const keep = remembered - 1;
      if (keep <= 0) {
        // History off (or only the current password counts): nothing earlier is needed any more.
        await model.deleteOne({ _id: userId }).exec();
        return;
      }
      const hashes = [...(replacedHash === null ? [] : [replacedHash]), ...(await earlier(userId))].slice(0, keep);
      await model.updateOne({ _id: userId }, { $set: { hashes, updatedAt: now() } }, { upsert: true }).exec();
    },
  };
}
