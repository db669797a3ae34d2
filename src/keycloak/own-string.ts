/**
 * A copy of `value` holding only its own characters. A string stream-json reads can be a slice of
 * the block of the file it came in (V8 keeps a substring of 13 characters or more as a view of its
 * parent), so a string kept beyond its batch — the dry run's given usernames and ids, the report's
 * first entries — would keep its whole block alive: all of the file, one user id at a time.
 */
export const ownString = (value: string): string => Buffer.from(value, 'utf8').toString('utf8');

/** An entry of the report with each of its strings copied (ownString). */
export function ownStrings<T extends string | object>(entry: T): T {
  if (typeof entry === 'string') return ownString(entry) as T;
  return Object.fromEntries(Object.entries(entry).map(([key, value]) => [key, typeof value === 'string' ? ownString(value) : value])) as T;
}
