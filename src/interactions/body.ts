import { parse } from 'node:querystring';
import type { Context } from 'koa';
import { GatehouseError } from '../errors/gatehouse-error.ts';
import { problemText } from '../errors/problems.ts';

const LIMIT = 16 * 1024;

/**
 * Reads a small urlencoded form body; anything else or anything larger is a 400/413. A body too
 * large to read closes the connection with the answer: the rest of it is still on the socket,
 * and a client that writes its whole body before reading would wait for its own timeout.
 */
export async function readForm(ctx: Context): Promise<Record<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) ctx.throw(400, 'expected a form submission');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > LIMIT) throw new GatehouseError(problemText('body_too_large'), { status: 413, code: 'invalid_request', expose: true, problem: { code: 'body_too_large' }, headers: { Connection: 'close' } });
    chunks.push(buffer);
  }
  const parsed = parse(Buffer.concat(chunks).toString('utf8'));
  const form: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'string') form[key] = value;
  }
  return form;
}
