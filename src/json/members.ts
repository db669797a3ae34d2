import { Readable } from 'node:stream';
import { parser, type Token } from 'stream-json/parser.js';

/*
 * JSON members in a text: a member given twice in one object (JSON.parse keeps the last, so which
 * one was meant would be a guess), and where a key is. Neutral: the admin API's JSON bodies
 * (src/admin/json-body.ts), the CLI's files and the Keycloak import's streamed reads all use it.
 */

/** A member given twice in one object: where (its path), and which key of the text it is (the n-th, counting every key in order, from 0). */
export class DuplicateMemberError extends Error {
  readonly path: string;
  readonly keyIndex: number;

  constructor(path: string, keyIndex: number) {
    super(`${path}: given twice`);
    this.path = path;
    this.keyIndex = keyIndex;
  }
}

/** An open object (the keys it has had, the member being read) or array (the element being read). */
type Open = { readonly keys: Set<string>; key: string } | { readonly keys: undefined; index: number };

/**
 * Watches the tokens of a JSON text (stream-json's parser, keys packed) and throws
 * DuplicateMemberError at the second member of one name in any object. JSON.parse keeps the last
 * and a streamed read can see both: which one counts would be a guess, so neither does. Holds
 * the keys of the objects open at the moment (a user's, not every user's).
 */
export class MemberWatch {
  readonly #open: Open[] = [];
  #keys = 0;

  see(token: Token): void {
    const top = this.#open.at(-1);
    // A value starts: an element of an array counts it.
    if (top?.keys === undefined && top !== undefined && STARTS_VALUE.has(token.name)) top.index += 1;
    switch (token.name) {
      case 'startObject':
        this.#open.push({ keys: new Set(), key: '' });
        return;
      case 'startArray':
        this.#open.push({ keys: undefined, index: -1 });
        return;
      case 'endObject':
      case 'endArray':
        this.#open.pop();
        return;
      case 'keyValue': {
        const index = this.#keys++;
        if (top?.keys === undefined) return;
        if (top.keys.has(token.value)) throw new DuplicateMemberError([...this.#open.slice(0, -1).map(segment), token.value].join('.'), index);
        top.keys.add(token.value);
        top.key = token.value;
        return;
      }
      default:
    }
  }
}

const STARTS_VALUE = new Set<Token['name']>(['startObject', 'startArray', 'stringValue', 'numberValue', 'nullValue', 'trueValue', 'falseValue']);
const segment = (open: Open): string => (open.keys === undefined ? String(open.index) : open.key);

/** A place in a text: 1-based line and column (in UTF-16 code units), as stream-json's verifier counts them (src/errors/json-break.ts). */
export interface TextPlace {
  readonly line: number;
  readonly column: number;
}

/**
 * Where the `keyIndex`-th key (from 0, every key of every object in order) of a JSON text starts:
 * its opening quote. Read again as a stream only once a duplicate was found, so the read that
 * found it never counts lines. The text is JSON up to there (the parser got that far); undefined if
 * it holds fewer keys (it changed since). Line breaks as the verifier counts them: LF, CR, CRLF,
 * U+2028, U+2029; a leading byte-order mark is not counted.
 */
export async function keyPlace(chunks: AsyncIterable<string>, keyIndex: number): Promise<TextPlace | undefined> {
  let [line, column, keys] = [1, 1, 0];
  let [inString, escaped, afterCr, first] = [false, false, false, true];
  // Whether each open container is an object, and whether a string now would be a key.
  const objects: boolean[] = [];
  let keyNext = false;
  for await (const chunk of chunks) {
    let start = 0;
    if (first && chunk.startsWith('\uFEFF')) start = 1;
    if (chunk !== '') first = false;
    for (let at = start; at < chunk.length; at += 1) {
      const c = chunk[at]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
      } else if (c === '"') {
        if (keyNext) {
          if (keys === keyIndex) return { line, column };
          keys += 1;
          keyNext = false;
        }
        inString = true;
      } else if (c === '{' || c === '[') {
        objects.push(c === '{');
        keyNext = c === '{';
      } else if (c === '}' || c === ']') {
        objects.pop();
        keyNext = false;
      } else if (c === ',') {
        keyNext = objects.at(-1) === true;
      } else if (c === ':') {
        keyNext = false;
      }
      if (c === '\n' && afterCr) afterCr = false;
      else if (c === '\n' || c === '\r' || c === '\u2028' || c === '\u2029') {
        [line, column, afterCr] = [line + 1, 1, c === '\r'];
      } else {
        [column, afterCr] = [column + 1, false];
      }
    }
  }
  return undefined;
}

/**
 * How many members the objects of a parsed JSON value hold in all. A loop over a stack, not
 * recursion: request bodies are client input, and `[[[…]]]` nested thousands deep would overflow
 * the call stack.
 */
export function memberCount(value: unknown): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next !== 'object' || next === null) continue;
    if (Array.isArray(next)) {
      for (const item of next) if (typeof item === 'object' && item !== null) pending.push(item);
      continue;
    }
    for (const key in next) {
      count += 1;
      const member = (next as Record<string, unknown>)[key];
      if (typeof member === 'object' && member !== null) pending.push(member);
    }
  }
  return count;
}

/**
 * How many members the objects of a JSON text name: its colons outside strings (in JSON text a
 * colon outside a string separates a member's name from its value, and nothing else). The text
 * must be JSON (JSON.parse read it). Native searches hop from quote to quote.
 */
export function textMemberCount(text: string): number {
  let count = 0;
  let at = 0;
  for (;;) {
    const quote = text.indexOf('"', at);
    const end = quote === -1 ? text.length : quote;
    for (let colon = text.indexOf(':', at); colon !== -1 && colon < end; colon = text.indexOf(':', colon + 1)) count += 1;
    if (quote === -1) return count;
    // The string's closing quote: the next one not escaped (an odd run of backslashes before it escapes it).
    let close = quote;
    for (;;) {
      close = text.indexOf('"', close + 1);
      if (close === -1) return count;
      let backslashes = 0;
      while (text.charCodeAt(close - 1 - backslashes) === 0x5c) backslashes += 1;
      if (backslashes % 2 === 0) break;
    }
    at = close + 1;
  }
}

/**
 * Whether JSON.parse dropped a member given twice in one object (it keeps the last): the text
 * names more members than the value holds. Cheap enough for every request body: a walk of the
 * parsed value and a scan of its text; only a body that fails it is read again to say where.
 */
export function lostMembers(text: string, parsed: unknown): boolean {
  return typeof parsed === 'object' && parsed !== null && textMemberCount(text) !== memberCount(parsed);
}

/** A member given twice: its path (`users.3.email`) and where its second name starts. */
export interface DuplicateMember extends TextPlace {
  readonly path: string;
}

/**
 * The first member given twice in a JSON text, read as a stream (stream-json's tokens, MemberWatch),
 * then read again to find its place (keyPlace): undefined when there is none. For a text JSON.parse
 * read and lostMembers found wanting — the path of a refusal, never the hot path.
 */
export async function findDuplicateMember(blocks: () => AsyncIterable<string>): Promise<DuplicateMember | undefined> {
  const text = Readable.from(blocks());
  const tokens = parser.asStream({ streamValues: false });
  text.once('error', (error) => tokens.destroy(error));
  const watch = new MemberWatch();
  try {
    for await (const token of text.pipe(tokens) as AsyncIterable<Token>) watch.see(token);
  } catch (error) {
    if (!(error instanceof DuplicateMemberError)) throw error;
    const place = await keyPlace(blocks(), error.keyIndex);
    return place === undefined ? undefined : { path: error.path, ...place };
  } finally {
    text.destroy();
  }
  return undefined;
}

/** A string as blocks of text (findDuplicateMember of a text already in memory). */
export async function* textBlocks(text: string, size = 64 * 1024): AsyncGenerator<string> {
  for (let at = 0; at < text.length; at += size) yield text.slice(at, at + size);
}
