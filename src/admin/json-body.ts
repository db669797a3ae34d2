import type { Context } from 'koa';
import { GatehouseError } from '../errors/gatehouse-error.ts';
import { jsonBreak } from '../errors/json-break.ts';
import { problemText, type ProblemCode, type ProblemParams } from '../errors/problems.ts';
import { refuseNulCharacters } from '../errors/nul-characters.ts';

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
 * a string with a NUL character in it (400 naming the field: no stored value holds one). A body too
 * large to read closes the connection with the answer: the rest of it is still on the socket,
 * where a keep-alive client's next request would never be answered. A body that is not JSON is
 * answered with where it breaks (line, column), and whether it was cut short there.
 */
export async function readJson(ctx: Context, limit: number | BodyLimit = DEFAULT_BODY_LIMIT): Promise<unknown> {
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
  let text: string;
  try {
    // JSON is UTF-8 (RFC 8259 §8.1): a leading byte-order mark is dropped, as parsers may; bytes that
    // are not UTF-8 are refused rather than turned into U+FFFD (a Latin-1 "José" stored as "Jos\uFFFD").
    text = UTF8.decode(Buffer.concat(chunks));
  } catch {
    throw unreadable('not_utf8');
  }
  if (text.trim() === '') return {};
  if (!ctx.is('application/json')) throw unreadable('not_json_content_type');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    const broken = await jsonBreak([text]);
    if (broken === undefined) throw unreadable('not_json');
    const reason = broken.cutShort ? 'the body ends there, before its JSON does (cut short)' : broken.reason;
    throw unreadable('not_json_at', { line: broken.line, column: broken.column, reason });
  }
  refuseNulCharacters(parsed);
  return parsed;
}
