import { setImmediate } from 'node:timers/promises';
import { lostMembers } from '../json/members.ts';
import type { Json } from './export-json.ts';

/** A document as src/keycloak/export-stream.ts reads it (KeycloakExportDocument; said here again, as that module uses this one). */
interface DocumentMembers {
  readonly members: Json;
  readonly users: number | undefined;
}
interface ExportDocument {
  readonly name: string;
  read(onUser: (user: unknown, index: number) => void | Promise<void>): Promise<DocumentMembers>;
}

/**
 * A request body's Keycloak export read without stream-json: its bytes (held whole by the request
 * anyway) are scanned once for the top level's shape — each member's span and each element's of a
 * top-level `users` array, a pair of numbers per user — and every read then hands over JSON.parse
 * of one span at a time (a member bigger than BLOCK is taken apart the same way, element by
 * element), with a turn of the event loop every BLOCK bytes. The import reads a document two or
 * three times (check, then once per pass); streamed, that was two or three stream-json parses,
 * each about 8× JSON.parse's time, and the text was tokenized each time. Here the text is scanned
 * once and each user is JSON.parse'd once per read; nothing more is held than the spans.
 *
 * Only a body this reading can vouch for is read this way: anything it does not take as it is — a
 * body that is not JSON, not an object, a member given twice (lostMembers), a shape it does not
 * know — is read by `fallback` (the streamed read), whose refusal names where and what, as before.
 */

/** Bytes handed over between two turns of the event loop (the streamed read's block). */
const BLOCK = 64 * 1024;

/** Levels of a member bigger than BLOCK taken apart before the rest is one JSON.parse. */
const TAKEN_APART = 2;

/** [start, end) of a value in the bytes. */
type Span = readonly [number, number];
type Member = { readonly key: string; readonly span: Span };

const [QUOTE, BACKSLASH, OPEN_OBJECT, CLOSE_OBJECT, OPEN_ARRAY, CLOSE_ARRAY, COMMA, COLON] = [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a];
const isSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** Not a shape this reading takes: the streamed read reads the body instead. */
class Unscanned extends Error {}

/** Counts bytes handled and lets the event loop turn every BLOCK of them. */
type Turn = (bytes: number) => Promise<void>;
function turns(): Turn {
  let since = 0;
  return async (bytes) => {
    since += bytes;
    if (since < BLOCK) return;
    since = 0;
    await setImmediate();
  };
}

/** The end (after its closing quote) of the string whose opening quote is at `at`. */
function stringEnd(bytes: Buffer, at: number): number {
  let close = at;
  for (;;) {
    close = bytes.indexOf(QUOTE, close + 1);
    if (close === -1) throw new Unscanned();
    let backslashes = 0;
    while (bytes[close - 1 - backslashes] === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return close + 1;
  }
}

/** The end of the value starting at `at`: its brackets balanced, its strings skipped (JSON.parse of the span checks the rest). */
async function valueEnd(bytes: Buffer, at: number, turn: Turn): Promise<number> {
  const first = bytes[at];
  if (first === QUOTE) return stringEnd(bytes, at);
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    let end = at;
    while (end < bytes.length && !isSpace(bytes[end]) && bytes[end] !== COMMA && bytes[end] !== CLOSE_OBJECT && bytes[end] !== CLOSE_ARRAY) end += 1;
    if (end === at) throw new Unscanned();
    return end;
  }
  let depth = 0;
  let from = at;
  for (let i = at; i < bytes.length; i += 1) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      i = stringEnd(bytes, i) - 1;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      depth += 1;
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      depth -= 1;
      if (depth === 0) {
        await turn(i + 1 - from);
        return i + 1;
      }
    }
    if (i - from >= BLOCK) {
      await turn(i - from);
      from = i;
    }
  }
  throw new Unscanned();
}

/** A cursor over the bytes: whitespace skipped, one expected byte taken. */
class Cursor {
  readonly bytes: Buffer;
  at: number;
  constructor(bytes: Buffer, at: number) {
    this.bytes = bytes;
    this.at = at;
  }
  peek(): number | undefined {
    while (isSpace(this.bytes[this.at])) this.at += 1;
    return this.bytes[this.at];
  }
  take(byte: number): void {
    if (this.peek() !== byte) throw new Unscanned();
    this.at += 1;
  }
}

/** The elements of the array that starts at the cursor (`[`), as spans; the cursor ends after its `]`. */
async function elements(cursor: Cursor, turn: Turn): Promise<Span[]> {
  const spans: Span[] = [];
  cursor.take(OPEN_ARRAY);
  if (cursor.peek() === CLOSE_ARRAY) {
    cursor.at += 1;
    return spans;
  }
  for (;;) {
    cursor.peek();
    const end = await valueEnd(cursor.bytes, cursor.at, turn);
    spans.push([cursor.at, end]);
    cursor.at = end;
    if (cursor.peek() === COMMA) {
      cursor.at += 1;
      continue;
    }
    cursor.take(CLOSE_ARRAY);
    return spans;
  }
}

/**
 * The members of the object that starts at the cursor (`{`), each key once (a key given twice: not
 * taken here); `inline` may take a member's value itself (the top level's `users` array) and say so.
 */
async function members(cursor: Cursor, turn: Turn, inline: (key: string) => Promise<boolean> = async () => false): Promise<Member[]> {
  const found: Member[] = [];
  const keys = new Set<string>();
  cursor.take(OPEN_OBJECT);
  if (cursor.peek() === CLOSE_OBJECT) {
    cursor.at += 1;
    return found;
  }
  for (;;) {
    if (cursor.peek() !== QUOTE) throw new Unscanned();
    const keyEnd = stringEnd(cursor.bytes, cursor.at);
    let key: string;
    try {
      key = JSON.parse(cursor.bytes.toString('utf8', cursor.at, keyEnd)) as string;
    } catch {
      throw new Unscanned();
    }
    if (keys.has(key)) throw new Unscanned();
    keys.add(key);
    cursor.at = keyEnd;
    cursor.take(COLON);
    cursor.peek();
    if (!(await inline(key))) {
      const end = await valueEnd(cursor.bytes, cursor.at, turn);
      found.push({ key, span: [cursor.at, end] });
      cursor.at = end;
    }
    if (cursor.peek() === COMMA) {
      cursor.at += 1;
      continue;
    }
    cursor.take(CLOSE_OBJECT);
    return found;
  }
}

/** The top level's shape: its members but a `users` array, and that array's elements. */
interface Shape {
  readonly members: readonly Member[];
  readonly users: readonly Span[] | undefined;
}

async function scan(bytes: Buffer, turn: Turn): Promise<Shape> {
  const cursor = new Cursor(bytes, bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0);
  let users: Span[] | undefined;
  const top = await members(cursor, turn, async (key) => {
    if (key !== 'users' || cursor.peek() !== OPEN_ARRAY) return false;
    users = await elements(cursor, turn);
    return true;
  });
  if (cursor.peek() !== undefined) throw new Unscanned();
  return { members: top, users };
}

/** As JSON.parse sets a member: an own property whatever its name (`__proto__` too). */
function define(object: Json, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * The value of a span: JSON.parse of it (checked for members given twice when `check`), or, for an
 * object or array bigger than BLOCK, assembled from its members' or elements' values the same way,
 * so that no one parse holds the event loop for long.
 */
async function valueOf(bytes: Buffer, [start, end]: Span, check: boolean, turn: Turn, level = 0): Promise<unknown> {
  const first = bytes[start];
  // Each level taken apart scans its span again: two levels (`roles.realm`, `clients.3`) and no more, so
  // that a value nested thousands deep costs a few scans, not one per level (JSON.parse takes any depth).
  if (level < TAKEN_APART && end - start > BLOCK && (first === OPEN_ARRAY || first === OPEN_OBJECT)) {
    const cursor = new Cursor(bytes, start);
    if (first === OPEN_ARRAY) {
      const items: unknown[] = [];
      for (const span of await elements(cursor, turn)) items.push(await valueOf(bytes, span, check, turn, level + 1));
      return items;
    }
    const object: Json = {};
    for (const { key, span } of await members(cursor, turn)) define(object, key, await valueOf(bytes, span, check, turn, level + 1));
    return object;
  }
  const text = bytes.toString('utf8', start, end);
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new Unscanned();
  }
  if (check && lostMembers(text, value)) throw new Unscanned();
  await turn(end - start);
  return value;
}

/**
 * A request body's document read from its bytes (see above); `fallback` reads it when this reading
 * does not take it, and says why it is refused.
 */
export function scannedDocument(bytes: Buffer, fallback: ExportDocument): ExportDocument {
  let shape: Promise<Shape> | undefined;
  /** Whether a read went through the whole body: every span parsed and checked once, no read needs to check again. */
  let checked = false;
  return {
    name: fallback.name,
    async read(onUser): Promise<DocumentMembers> {
      const turn = turns();
      // Each user is handed over once a read, whichever reading hands it: the streamed read, taking
      // over mid-way, starts again from the body's start and passes over the users handed already.
      let handed = 0;
      const handOnce = async (user: unknown, index: number): Promise<void> => {
        if (index < handed) return;
        handed = index + 1;
        await onUser(user, index);
      };
      let known: Shape;
      try {
        shape ??= scan(bytes, turn);
        known = await shape;
      } catch {
        // Not JSON, not an object, a key JSON.parse refuses, a member given twice at the top: the streamed read says which.
        return fallback.read(handOnce);
      }
      const check = !checked;
      const document: Json = {};
      try {
        for (const { key, span } of known.members) define(document, key, await valueOf(bytes, span, check, turn));
        if (known.users !== undefined) {
          for (const [index, span] of known.users.entries()) await handOnce(await valueOf(bytes, span, check, turn), index);
        }
      } catch (error) {
        // A user or member this reading does not vouch for (only the first read, which checks, can find one).
        if (error instanceof Unscanned) return fallback.read(handOnce);
        throw error;
      }
      checked = true;
      return { members: document, users: known.users?.length };
    },
  };
}
