import { domainToUnicode } from 'node:url';
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

/**
 * The keys a user holding `email` may be stored under: the current emailKey, and — for an
 * internationalized domain — the key version 0 gave it (the address lowercased as typed, in
 * either form of the domain). Such a key is left by a database this version has not migrated
 * yet, or written by an older instance during a rolling upgrade after the migration ran (its
 * mark set): lookups and uniqueness checks by address take both, so the user is found and no
 * second account gets the address. One key (an equality on the index, as before) for every
 * ASCII domain.
 */
export function storedEmailKeys(email: string): string | { $in: string[] } {
  const key = emailKey(email);
  const at = key.lastIndexOf('@');
  const domain = key.slice(at + 1);
  if (at < 0 || !/(^|\.)xn--/.test(domain)) return key;
  const local = key.slice(0, at + 1);
  const typed = email.trim().normalize('NFKC').toLowerCase();
  const forms = new Set([key, typed, local + domainToUnicode(domain)]);
  return forms.size === 1 ? key : { $in: [...forms] };
}

/** Whether `stored` (a user's emailKey) is one of the keys `email` may be stored under. */
export function storedUnder(stored: string, email: string): boolean {
  const keys = storedEmailKeys(email);
  return typeof keys === 'string' ? stored === keys : keys.$in.includes(stored);
}

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
 * start: a server's, or a CLI command's that may write — one read of the mark once it is set). Idempotent: a key already current is left alone, the mark
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
