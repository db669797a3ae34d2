import { IncomingMessage } from 'node:http';
import { parse as parseQuery, stringify as stringifyQuery, type ParsedUrlQuery } from 'node:querystring';
import type { Context } from 'koa';

/** oidc-provider's own limit for request bodies (lib/shared/selective_body.js). */
export const FORM_BODY_LIMIT = 56 * 1024;

const BUFFERED = Symbol('gatehouse.form');
/** On a replay this module made: the body it will hand out when first read (replaceable until then). */
const PENDING = Symbol('gatehouse.pendingBody');
type Replay = IncomingMessage & { [PENDING]?: { bytes: Buffer; read: boolean } };

type Buffered = { params: ParsedUrlQuery } | 'too_large' | 'not_a_form';

/**
 * Reads a urlencoded request body ahead of oidc-provider (to key rate limits by client, or to
 * swap a JWT for its record id) and hands the provider an identical request whose body can be
 * read again. The provider then parses the body itself, as it would have, instead of falling
 * back to a pre-parsed `req.body` (which it warns about on stdout).
 *
 * Read once per request; later callers get the same parameters. 'too_large' when the body is
 * over the provider's own limit (the caller answers 413), 'not_a_form' for other content types.
 * A body left unread closes the connection with the answer: the rest of it is still on the
 * socket, and a keep-alive client's next request there would never be answered.
 */
export async function bufferedForm(ctx: Context): Promise<Buffered> {
  const state = ctx.state as { [BUFFERED]?: Buffered };
  const seen = state[BUFFERED];
  if (seen !== undefined) return seen;
  let outcome: Buffered;
  if (!ctx.is('application/x-www-form-urlencoded')) outcome = 'not_a_form';
  else {
    const raw = await readLimited(ctx.req);
    if (raw === undefined) {
      outcome = 'too_large';
      ctx.set('Connection', 'close');
    } else {
      outcome = { params: parseQuery(raw.toString('utf8')) };
      // The provider gets the very bytes that came (it decodes them by the request's charset).
      useRequest(ctx, replayable(ctx.req, raw));
    }
  }
  state[BUFFERED] = outcome;
  return outcome;
}

/** The answer to a form over the provider's limit (bufferedForm's 'too_large'), as the provider words it. */
export function refuseTooLarge(ctx: Context): void {
  ctx.status = 413;
  ctx.body = { error: 'invalid_request', error_description: 'request body too large' };
}

/**
 * Replaces the body the provider will read with these parameters (after bufferedForm). The
 * replay bufferedForm made is handed the new body while nobody has read it yet (the usual
 * case: a swap right after the gate read the form), instead of making another request.
 */
export function replaceForm(ctx: Context, params: ParsedUrlQuery): void {
  const state = ctx.state as { [BUFFERED]?: Buffered };
  state[BUFFERED] = { params };
  const bytes = Buffer.from(stringifyQuery(params), 'utf8');
  const pending = (ctx.req as Replay)[PENDING];
  if (pending !== undefined && !pending.read) {
    pending.bytes = bytes;
    setContentLength(ctx.req, bytes.length);
  } else useRequest(ctx, replayable(ctx.req, bytes));
}

/**
 * Hands the provider `fields` as the urlencoded form it parses, in place of a body that came in
 * an encoding it does not read (a multipart/form-data form, already read by the caller).
 */
export function replayAsUrlencoded(ctx: Context, fields: Readonly<Record<string, string>>): void {
  const state = ctx.state as { [BUFFERED]?: Buffered };
  state[BUFFERED] = { params: { ...fields } };
  const replay = replayable(ctx.req, Buffer.from(stringifyQuery(fields), 'utf8'), URLENCODED);
  useRequest(ctx, replay);
}

const URLENCODED = 'application/x-www-form-urlencoded';

function useRequest(ctx: Context, req: IncomingMessage): void {
  ctx.req = req;
  ctx.request.req = req;
}

/**
 * The body, or undefined when it is over the limit. A body whose announced length is within
 * the limit is read by its 'data' events (Node's parser never delivers more than Content-Length
 * announced); any other (chunked, or announced too large) through the stream's async iterator,
 * which stops reading once the limit is passed.
 */
function readLimited(req: IncomingMessage): Promise<Buffer | undefined> {
  const announced = Number(req.headers['content-length']);
  if (req.headers['transfer-encoding'] === undefined && Number.isSafeInteger(announced) && announced >= 0 && announced <= FORM_BODY_LIMIT) return readAnnounced(req);
  return readIterated(req);
}

function readAnnounced(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer | string) => void chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    const settle = (error?: Error) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (error === undefined) resolve(Buffer.concat(chunks));
      else reject(error);
    };
    const onEnd = () => settle();
    const onError = (error: Error) => settle(error);
    // Closed before its end (the client went away): what the async iterator reports too.
    const onClose = () => settle(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
  });
}

async function readIterated(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > FORM_BODY_LIMIT) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * A request like `original` (method, URL, headers, socket) whose body is `body`, readable once
 * more. Content-Length follows the new body, so a replaced token of another length still
 * matches what the provider checks; `contentType`, when given, replaces the original's.
 */
function replayable(original: IncomingMessage, bytes: Buffer, contentType?: string): IncomingMessage {
  const replay: Replay = new IncomingMessage(original.socket);
  replay.method = original.method;
  replay.url = original.url;
  replay.httpVersion = original.httpVersion;
  replay.httpVersionMajor = original.httpVersionMajor;
  replay.httpVersionMinor = original.httpVersionMinor;
  const headers = { ...original.headers, 'content-length': String(bytes.length), ...(contentType === undefined ? {} : { 'content-type': contentType }) };
  delete headers['transfer-encoding'];
  replay.headers = headers;
  replay.rawHeaders = rawHeadersOf(headers);
  // The whole body is already here: reading must not touch the socket (the original request
  // owns it). It is handed out on the first read, so a replaceForm before that only swaps it.
  const pending = { bytes, read: false };
  replay[PENDING] = pending;
  replay._read = () => {
    if (pending.read) return;
    pending.read = true;
    replay.push(pending.bytes);
    replay.push(null);
  };
  // Not set, Node takes the replay's end for an aborted upload and destroys the socket.
  replay.complete = true;
  return replay;
}

/** Name, value, name, value, ... as Node's parser lists them (a repeated header once per value). */
function rawHeadersOf(headers: IncomingMessage['headers']): string[] {
  const raw: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const each of value) raw.push(name, each);
    else raw.push(name, String(value));
  }
  return raw;
}

/** A replay's body replaced before anyone read it: its Content-Length follows. */
function setContentLength(replay: IncomingMessage, length: number): void {
  const value = String(length);
  replay.headers['content-length'] = value;
  const raw = replay.rawHeaders;
  for (let index = 0; index < raw.length; index += 2) if (raw[index] === 'content-length') raw[index + 1] = value;
}
