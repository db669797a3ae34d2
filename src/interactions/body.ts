import { parse } from 'node:querystring';
import type { Context } from 'koa';

const LIMIT = 16 * 1024;

/** Reads a small urlencoded form body; anything else or anything larger is a 400/413. */
export async function readForm(ctx: Context): Promise<Record<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) ctx.throw(400, 'expected a form submission');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > LIMIT) ctx.throw(413, 'form too large');
    chunks.push(buffer);
  }
  const parsed = parse(Buffer.concat(chunks).toString('utf8'));
  const form: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'string') form[key] = value;
  }
  return form;
}
