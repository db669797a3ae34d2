import { InvalidRequestError } from './gatehouse-error.ts';

const MESSAGE = 'must not contain a NUL character';

/**
 * The path (`redirect_uris.0`, `userId`) of the first string in `value` holding a NUL
 * character, or undefined. No value Gatehouse stores holds one, and FerretDB on PostgreSQL
 * (jsonb) fails any command carrying one, a lookup as much as a write.
 */
export function nulPath(value: unknown, path: readonly string[] = []): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path.join('.') : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, member] of Object.entries(value)) {
    if (key.includes('\u0000')) return [...path, key].join('.');
    const found = nulPath(member, [...path, key]);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Refuses input with a NUL character: 400 `invalid_request` naming the field, before any store sees it. */
export function refuseNulCharacters(value: unknown): void {
  const path = nulPath(value);
  if (path !== undefined) throw new InvalidRequestError(`${path || 'body'}: ${MESSAGE}`, [{ path, message: MESSAGE }]);
}
