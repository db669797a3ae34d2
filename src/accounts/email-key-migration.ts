import type { Connection } from 'mongoose';
import type { Logger } from '../observability/logger.ts';
import { documentLocks, lockKey } from '../storage/document-locks.ts';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { SCHEMA_COLLECTION } from '../storage/index-mark.ts';
import { emailKey } from './normalize.ts';
import type { StoredUser } from './user-model.ts';

/** `{ _id: 'email-keys', version }` in gatehouse_schema: the key version every stored emailKey has. */
const MARK_ID = 'email-keys';
/** 1: an internationalized domain is keyed in its ASCII form (normalize.ts domainKey); before, lowercased as typed. */
export const EMAIL_KEY_VERSION = 1;

/** A key whose domain holds a non-ASCII character: the only ones version 1 changes. */
const NON_ASCII_DOMAIN = '@[^@]*[^\\x00-\\x7f]';

export interface EmailKeyMigration {
  /** Users whose key was rewritten. */
  readonly rekeyed: number;
  /** Users left under their old key: another user holds the new one (the same mailbox, both forms stored before). */
  readonly conflicts: readonly string[];
}

/**
 * Brings stored email keys to the current emailKey, once per database (at the account layer's
 * start, where indexes are created). Idempotent: a key already current is left alone, the mark
 * makes a later start one read by `_id`, and a start that stops halfway redoes the rest. Each
 * rewrite holds the user's document lock (FerretDB v1 rewrites the whole document on update) and
 * applies only while the key is still the old one. A user whose new key another user already
 * holds keeps the old one and is logged by id: the operator decides which account the address
 * belongs to (the other one signs in by it meanwhile); until then each start tries again.
 */
export async function migrateEmailKeys(connection: Connection, logger?: Logger): Promise<EmailKeyMigration> {
  const marks = connection.db!.collection<{ _id: string; version?: number }>(SCHEMA_COLLECTION);
  const mark = await marks.findOne({ _id: MARK_ID });
  if (typeof mark?.version === 'number' && mark.version >= EMAIL_KEY_VERSION) return { rekeyed: 0, conflicts: [] };
  const users = connection.db!.collection<Pick<StoredUser, '_id' | 'emailKey'>>('users');
  const locks = documentLocks(connection);
  let rekeyed = 0;
  const conflicts: string[] = [];
  const candidates = await users.find({ emailKey: { $regex: NON_ASCII_DOMAIN } }, { projection: { emailKey: 1 } }).toArray();
  for (const { _id: id, emailKey: old } of candidates) {
    const current = emailKey(old);
    if (current === old) continue;
    try {
      const result = await locks.hold(lockKey('users', id), () => users.updateOne({ _id: id, emailKey: old }, { $set: { emailKey: current } }));
      rekeyed += result.modifiedCount;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      conflicts.push(id);
    }
  }
  if (rekeyed > 0) logger?.info({ rekeyed }, 'email keys of internationalized domains now in their ASCII form (one account per address in either form)');
  if (conflicts.length > 0) {
    logger?.warn({ users: conflicts }, 'these users keep their old email key: another user holds the same address in its other form (bücher.example / xn--bcher-kva.example); give one of them another address');
  }
  // With conflicts left, no mark: each start tries them again (and says so) until the operator settles them.
  if (conflicts.length > 0) return { rekeyed, conflicts };
  await marks.updateOne({ _id: MARK_ID }, { $max: { version: EMAIL_KEY_VERSION } }, { upsert: true }).catch((error: unknown) => {
    // Two first starts at once: the loser's insert meets the winner's mark, which says the same.
    if (!isDuplicateKey(error)) throw error;
  });
  return { rekeyed, conflicts };
}
