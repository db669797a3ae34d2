/**
 * The MongoDB-wire error for a unique index that already holds the key: E11000, from the driver
 * or mongoose. FerretDB on PostgreSQL answers some writes (findAndModify) that hit a unique index
 * with a generic error instead, whose message carries PostgreSQL's unique_violation (SQLSTATE
 * 23505); FerretDB on SQLite answers an update or findAndModify onto a taken unique key with
 * SQLite's UNIQUE constraint failure (extended result code 2067, SQLITE_CONSTRAINT_UNIQUE). Both
 * mean what E11000 means.
 */
export function isDuplicateKey(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code === 11000) return true;
  if (typeof message !== 'string') return false;
  return /\bduplicate key value violates unique constraint\b.*\(SQLSTATE 23505\)/.test(message) || /\bUNIQUE constraint failed: .*\(2067\)/.test(message);
}
