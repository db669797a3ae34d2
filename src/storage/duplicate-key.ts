/**
 * The MongoDB-wire error for a unique index that already holds the key: E11000, from the driver
 * or mongoose. FerretDB on PostgreSQL answers some writes (findAndModify) that hit a unique index
 * with a generic error instead, whose message carries PostgreSQL's unique_violation (SQLSTATE
 * 23505); it means the same.
 */
export function isDuplicateKey(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === 11000 || (typeof message === 'string' && /\bduplicate key value violates unique constraint\b.*\(SQLSTATE 23505\)/.test(message));
}
