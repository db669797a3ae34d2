import type { Context } from 'koa';
import { GatehouseError } from '../errors/gatehouse-error.ts';
import { problemText, type ProblemCode } from '../errors/problems.ts';
import { refuseNulCharacters } from '../errors/nul-characters.ts';

const LIMIT = 64 * 1024;

/** The body as a whole cannot be read: a 400 naming it by its own code, as no field is at fault (no detail with an empty path). */
function unreadable(code: ProblemCode): GatehouseError {
  return new GatehouseError(problemText(code), { status: 400, code: 'invalid_request', expose: true, problem: { code } });
}

/**
 * Reads a JSON request body; an empty body is `{}`, anything unreadable is a 400/413, and so is
 * a string with a NUL character in it (400 naming the field: no stored value holds one). A body too
 * large to read closes the connection with the answer: the rest of it is still on the socket,
 * where a keep-alive client's next request would never be answered.
 */
export async function readJson(ctx: Context, limit = LIMIT): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > limit) throw new GatehouseError(problemText('body_too_large'), { status: 413, code: 'invalid_request', expose: true, problem: { code: 'body_too_large' }, headers: { Connection: 'close' } });
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  if (!ctx.is('application/json')) throw unreadable('not_json_content_type');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    throw unreadable('not_json');
  }
  refuseNulCharacters(parsed);
  return parsed;
}
