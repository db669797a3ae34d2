import { isUtf8 } from 'node:buffer';
import { setImmediate } from 'node:timers/promises';
import type { Context } from 'koa';
import { GatehouseError, invalid } from '../errors/gatehouse-error.ts';
import { jsonBreak } from '../errors/json-break.ts';
import { problemText, type ProblemCode, type ProblemParams } from '../errors/problems.ts';
import { refuseUnstorableText } from '../errors/nul-characters.ts';
import { findDuplicateMember, lostMembers } from '../json/members.ts';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** What an admin API route takes unless it says otherwise. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** The body as a whole cannot be read: a 400 naming it by its own code, as no field is at fault (no detail with an empty path). */
function unreadable(code: ProblemCode, params?: ProblemParams): GatehouseError {
  return new GatehouseError(problemText(code, params), { status: 400, code: 'invalid_request', expose: true, problem: { code, params } });
}

/** A limit in words: 64 MiB, 64 KiB. */
export function sizeInWords(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

/** What a body over the limit is answered with: `body_too_large`, or a code of the route's own that says what to do instead (it is given `{limit}`). */
export interface BodyLimit {
  readonly bytes: number;
  readonly tooLarge?: ProblemCode | undefined;
}

/**
 * Reads a JSON request body; an empty body is `{}`, anything unreadable is a 400/413, and so is
 * a string with a NUL character in it (400 naming the field: no stored value holds one), or a
 * member given twice in one object (400 `duplicate_member` naming it, with its line and column). A body too
 * large to read closes the connection with the answer: the rest of it is still on the socket,
 * where a keep-alive client's next request would never be answered. A body that is not JSON is
 * answered with where it breaks (line, column), and whether it was cut short there.
 */
export async function readJson(ctx: Context, limit: number | BodyLimit = DEFAULT_BODY_LIMIT): Promise<unknown> {
  const body = await readJsonBody(ctx, limit);
  const text = body.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    throw await body.notJson();
  }
  // JSON.parse keeps the last of a member given twice ({"admin": false, "admin": true}): which one
  // was meant would be a guess, so neither is taken (the Keycloak import refuses them the same way).
  if (lostMembers(text, parsed)) {
    const duplicate = await findDuplicateMember(() => body.blocks());
    if (duplicate !== undefined) throw invalid(duplicate.path, 'duplicate_member', { line: duplicate.line, column: duplicate.column });
  }
  refuseUnstorableText(parsed);
  return parsed;
}

/** Text is handed on a block of about this many bytes at a time, with a turn of the event loop between two. */
const BODY_BLOCK = 64 * 1024;

/**
 * A JSON request body read but not parsed: its UTF-8 bytes (checked), whose text is given again a
 * block at a time for each read of a streaming parser (the Keycloak import reads its document
 * two or three times), with a turn of the event loop between two blocks — JSON.parse of a body of
 * 64 MiB held every other request for a second.
 */
export class JsonBody {
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** The body's bytes (UTF-8, checked): the Keycloak import scans them once (src/keycloak/body-document.ts). */
  get bytes(): Buffer {
    return this.#bytes;
  }

  /** The whole text at once (a small body). */
  text(): string {
    return UTF8.decode(this.#bytes);
  }

  /** The text from its start, a block at a time (a leading byte-order mark dropped, as JSON.parse's caller here drops it). */
  async *blocks(): AsyncGenerator<string> {
    const decoder = new TextDecoder('utf-8');
    for (let offset = 0; offset < this.#bytes.length; offset += BODY_BLOCK) {
      if (offset > 0) await setImmediate();
      const text = decoder.decode(this.#bytes.subarray(offset, offset + BODY_BLOCK), { stream: true });
      if (text !== '') yield text;
    }
    const rest = decoder.decode();
    if (rest !== '') yield rest;
  }

  /** What a body that does not parse is answered with: where it breaks (line, column), and whether it was cut short there. */
  async notJson(): Promise<GatehouseError> {
    const broken = await jsonBreak(this.blocks());
    if (broken === undefined) return unreadable('not_json');
    const reason = broken.cutShort ? 'the body ends there, before its JSON does (cut short)' : broken.reason;
    return unreadable('not_json_at', { line: broken.line, column: broken.column, reason });
  }
}

/** Bytes a body may hold around its JSON (RFC 8259 §2: space, tab, LF, CR). */
const JSON_WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Reads a JSON request body without parsing it (readJson parses it; the Keycloak import reads it
 * as a stream): over the limit a 413, bytes that are not UTF-8 or a type that is not JSON a 400.
 * A body of whitespace alone is `{}`.
 */
export async function readJsonBody(ctx: Context, limit: number | BodyLimit = DEFAULT_BODY_LIMIT): Promise<JsonBody> {
  const { bytes, tooLarge = 'body_too_large' } = typeof limit === 'number' ? { bytes: limit } : limit;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > bytes) {
      const params = { limit: sizeInWords(bytes) };
      throw new GatehouseError(problemText(tooLarge, params), { status: 413, code: 'invalid_request', expose: true, problem: { code: tooLarge, params }, headers: { Connection: 'close' } });
    }
    chunks.push(buffer);
  }
  const body = Buffer.concat(chunks);
  // JSON is UTF-8 (RFC 8259 §8.1): a leading byte-order mark is dropped, as parsers may; bytes that
  // are not UTF-8 are refused rather than turned into U+FFFD (a Latin-1 "José" stored as "Jos\uFFFD").
  if (!isUtf8(body)) throw unreadable('not_utf8');
  const text = body.subarray(body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0);
  if (text.every((byte) => JSON_WHITESPACE.has(byte))) return new JsonBody(Buffer.from('{}'));
  if (!ctx.is('application/json')) throw unreadable('not_json_content_type');
  return new JsonBody(body);
}
