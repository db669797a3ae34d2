import { invalid } from './gatehouse-error.ts';

/** Where a value sits: its key and its parent's place (built only once something is found). */
interface Place {
  readonly key: string;
  readonly parent: Place | undefined;
}

const pathOf = (place: Place | undefined): string => {
  const keys: string[] = [];
  for (let at = place; at !== undefined; at = at.parent) keys.push(at.key);
  return keys.reverse().join('.');
};

/**
 * The path (`redirect_uris.0`, `userId`) of the first string in `value` holding a NUL
 * character, or undefined. No value Gatehouse stores holds one, and FerretDB on PostgreSQL
 * (jsonb) fails any command carrying one, a lookup as much as a write.
 * A loop over a stack, not recursion: request bodies are client input, and `[[[...]]]` nested
 * a few thousand deep overflowed the call stack (a RangeError, answered 500).
 */
export function nulPath(value: unknown): string | undefined {
  const pending: Array<{ value: unknown; place: Place | undefined }> = [{ value, place: undefined }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (next.place?.key.includes('\u0000') === true) return pathOf(next.place);
    if (typeof next.value === 'string') {
      if (next.value.includes('\u0000')) return pathOf(next.place);
      continue;
    }
    if (typeof next.value !== 'object' || next.value === null) continue;
    const members = Object.entries(next.value);
    // Reversed onto the stack: members (a key, then what it holds) are visited in order, so the
    // first NUL found is named.
    for (let index = members.length - 1; index >= 0; index -= 1) {
      const [key, member] = members[index]!;
      pending.push({ value: member, place: { key, parent: next.place } });
    }
  }
  return undefined;
}

/** Refuses input with a NUL character: 400 `invalid_request` naming the field, before any store sees it. */
export function refuseNulCharacters(value: unknown): void {
  const path = nulPath(value);
  if (path !== undefined) throw invalid(path, 'nul_character');
}
