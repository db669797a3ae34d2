import type { Token } from 'stream-json/parser.js';

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
