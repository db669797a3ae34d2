import { parse } from 'node:querystring';
import type { Context } from 'koa';
import { GatehouseError } from '../errors/gatehouse-error.ts';
import { problemText } from '../errors/problems.ts';

/** The most a hosted page's form may carry: far above what any of its fields takes. */
export const HOSTED_FORM_LIMIT = 16 * 1024;

/** A page's form that came as neither of the encodings an HTML form sends (415; the page says so in the reader's language). */
export class NotAFormError extends GatehouseError {
  constructor(reason = 'expected a form submission (application/x-www-form-urlencoded or multipart/form-data)') {
    super(reason, { status: 415, code: 'invalid_request', expose: true });
  }
}

/** A form body over `limit` bytes (413): the page says the limit in the reader's units; a JSON caller gets `body_too_large`. */
export class FormTooLargeError extends GatehouseError {
  readonly limit: number;
  constructor(limit: number) {
    super(problemText('body_too_large'), { status: 413, code: 'invalid_request', expose: true, problem: { code: 'body_too_large' }, headers: { Connection: 'close' } });
    this.limit = limit;
  }
}

/**
 * Reads a small form body as a browser sends it: urlencoded, or multipart/form-data (an
 * operator's template with `enctype="multipart/form-data"`); in multipart, files are left out.
 * Anything else is a 415, anything larger a 413. A body too large to read closes the connection
 * with the answer: the rest of it is still on the socket, and a client that writes its whole
 * body before reading would wait for its own timeout.
 */
export async function readForm(ctx: Context): Promise<Record<string, string>> {
  const kind = ctx.is('application/x-www-form-urlencoded', 'multipart/form-data');
  if (kind === false || kind === null) throw new NotAFormError();
  const raw = await readLimited(ctx);
  if (kind === 'multipart/form-data') return multipart(raw, ctx.get('content-type'));
  const parsed = parse(raw.toString('utf8'));
  const form: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'string') form[key] = value;
  }
  return form;
}

async function readLimited(ctx: Context): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > HOSTED_FORM_LIMIT) throw new FormTooLargeError(HOSTED_FORM_LIMIT);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Parsed by the runtime's own Fetch implementation (undici's multipart parser): no dependency. A repeated name counts as missing, as in the urlencoded case. */
async function multipart(raw: Buffer, contentType: string): Promise<Record<string, string>> {
  let data: FormData;
  try {
    data = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw new NotAFormError('malformed multipart/form-data body');
  }
  const form: Record<string, string> = {};
  for (const key of new Set(data.keys())) {
    const values = data.getAll(key);
    if (values.length === 1 && typeof values[0] === 'string') form[key] = values[0];
  }
  return form;
}
