import { invalid } from './gatehouse-error.ts';
import type { ProblemCode } from './problems.ts';

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

/** What is wrong with a text, or undefined. */
type TextProblem = (text: string) => ProblemCode | undefined;

/**
 * The path of the first string or key in `value` with a problem, and the problem. A loop over a
 * stack, not recursion: request bodies are client input, and `[[[...]]]` nested a few thousand
 * deep overflowed the call stack (a RangeError, answered 500). Members are visited in order (a
 * key, then what it holds), so the first problem found is named.
 */
function firstProblem(value: unknown, problemOf: TextProblem): { path: string; code: ProblemCode } | undefined {
  const pending: Array<{ value: unknown; place: Place | undefined }> = [{ value, place: undefined }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const inKey = next.place === undefined ? undefined : problemOf(next.place.key);
    if (inKey !== undefined) return { path: pathOf(next.place), code: inKey };
    if (typeof next.value === 'string') {
      const code = problemOf(next.value);
      if (code !== undefined) return { path: pathOf(next.place), code };
      continue;
    }
    if (typeof next.value !== 'object' || next.value === null) continue;
    const members = Object.entries(next.value);
    for (let index = members.length - 1; index >= 0; index -= 1) {
      const [key, member] = members[index]!;
      pending.push({ value: member, place: { key, parent: next.place } });
    }
  }
  return undefined;
}

const nul: TextProblem = (text) => (text.includes('\u0000') ? 'nul_character' : undefined);

/** Half of a character (a UTF-16 surrogate without its pair), or a NUL. */
const unstorable: TextProblem = (text) => nul(text) ?? (/\p{Cs}/u.test(text) ? 'lone_surrogate' : undefined);

/**
 * The path (`redirect_uris.0`, `userId`) of the first string in `value` holding a NUL
 * character, or undefined. No value Gatehouse stores holds one, and FerretDB on PostgreSQL
 * (jsonb) fails any command carrying one, a lookup as much as a write.
 */
export function nulPath(value: unknown): string | undefined {
  return firstProblem(value, nul)?.path;
}

/** Refuses input with a NUL character: 400 `invalid_request` naming the field, before any store sees it. */
export function refuseNulCharacters(value: unknown): void {
  const path = nulPath(value);
  if (path !== undefined) throw invalid(path, 'nul_character');
}

/**
 * Refuses input no store can hold as it was sent: a NUL character (above), or half of a character
 * — a lone UTF-16 surrogate, which JSON can carry escaped (`"\ud800"`) and which MongoDB's UTF-8
 * would turn into U+FFFD, quietly storing something else. 400 `invalid_request` naming the field
 * (`nul_character`, `lone_surrogate`), before any store sees it. The admin and account APIs' bodies,
 * paths and queries, and `gatehouse import` files.
 */
export function refuseUnstorableText(value: unknown): void {
  const found = firstProblem(value, unstorable);
  if (found !== undefined) throw invalid(found.path, found.code);
}
