import { Schema, type Connection, type Model } from 'mongoose';

export type LockoutScope = 'account_ip' | 'account' | 'ip';

/**
 * One row per active lockout, written when a limiter key gets blocked, so an admin can list
 * them without scanning the limiter store (a Redis SCAN or a rate-limit collection), and
 * `unlock` knows which (account, IP) keys to clear. Every field is present on every row.
 */
export interface StoredLockout {
  /** `<scope>:<limiter key>`: one row per blocked key, overwritten when it locks again. */
  _id: string;
  scope: LockoutScope;
  /** User id, or `login:<normalized login>` for logins that match no user; null for IP locks. */
  subject: string | null;
  ip: string | null;
  /** 1 for the first lockout in the memory window, 2 for the next (twice as long), and so on. */
  level: number;
  lockedAt: Date;
  lockedUntil: Date;
}

const lockoutSchema = new Schema<StoredLockout>(
  {
    _id: { type: String, required: true },
    scope: { type: String, required: true, enum: ['account_ip', 'account', 'ip'] },
    subject: { type: String, default: null },
    ip: { type: String, default: null },
    level: { type: Number, required: true },
    lockedAt: { type: Date, required: true },
    lockedUntil: { type: Date, required: true },
  },
  { collection: 'login_lockouts', versionKey: false, strict: 'throw' },
);
lockoutSchema.index({ subject: 1 }, { name: 'subject' });

export type LockoutModel = Model<StoredLockout>;

export function lockoutModel(connection: Connection): LockoutModel {
  return (connection.models.LoginLockout as LockoutModel | undefined) ?? connection.model<StoredLockout>('LoginLockout', lockoutSchema);
}
