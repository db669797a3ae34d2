import { IncomingMessage } from 'node:http';
import { parse as parseQuery, stringify as stringifyQuery, type ParsedUrlQuery } from 'node:querystring';
import type { Context } from 'koa';

/** oidc-provider's own limit for request bodies (lib/shared/selective_body.js). */
export const FORM_BODY_LIMIT = 56 * 1024;

const BUFFERED = Symbol('gatehouse.form');

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
  if (!isUrlencoded(ctx)) outcome = 'not_a_form';
  else {
    const raw = await readLimited(ctx.req);
    if (raw === undefined) {
      outcome = 'too_large';
      ctx.set('Connection', 'close');
    } else {
      outcome = { params: parseForm(raw.toString('utf8')) };
      // The provider gets the very bytes that came (it decodes them by the request's charset).
      useRequest(ctx, replayable(ctx.req, raw));
    }
  }
  state[BUFFERED] = outcome;
  return outcome;
}

/** querystring's own limit on the pieces it parses (its `maxKeys`). */
const MAX_PAIRS = 1000;

/**
 * `querystring.parse(text)`, the same object (no prototype, a repeated name's values in an array),
 * made with the engine's own `indexOf` and `slice` when nothing in the text is encoded — no `%`,
 * no `+`: the usual form (a JWT, a record id, a grant type, base64url secrets). querystring's
 * parser looks at every character in JavaScript, ≈ 4.6 µs for an introspection form carrying an
 * RS256 JWT on this machine, ≈ 0.4 µs this way (docs/PERFORMANCE.md, perf24). Anything encoded,
 * or more than its 1,000 pieces, is querystring's to parse.
 */
export function parseForm(text: string): ParsedUrlQuery {
  if (text.includes('%') || text.includes('+')) return parseQuery(text);
  const params: ParsedUrlQuery = { __proto__: null } as unknown as ParsedUrlQuery;
  let pieces = 0;
  let start = 0;
  while (start <= text.length) {
    // querystring counts every piece between separators, empty ones too, against its limit.
    if (++pieces > MAX_PAIRS) return parseQuery(text);
    let end = text.indexOf('&', start);
    if (end === -1) end = text.length;
    if (end > start) {
      const eq = text.indexOf('=', start);
      const named = eq === -1 || eq > end;
      const name = text.slice(start, named ? end : eq);
      const value = named ? '' : text.slice(eq + 1, end);
      const seen = params[name];
      if (seen === undefined) params[name] = value;
      else if (typeof seen === 'string') params[name] = [seen, value];
      else seen.push(value);
    }
    start = end + 1;
  }
  return params;
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
  const { req } = ctx;
  if (req instanceof FormReplay && !req.handedOut) {
    req.replaceBody(bytes);
    setContentLength(req, bytes.length);
  } else useRequest(ctx, replayable(req, bytes));
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

/**
 * `ctx.is(URLENCODED)` as a yes or no: the header exactly as clients send it (with a body, as
 * type-is requires: a Content-Length that is a number, no Transfer-Encoding) is answered without
 * type-is's parsing (≈ 1 % of an introspection request); anything else is Koa's to decide.
 */
function isUrlencoded(ctx: Context): boolean {
  const { headers } = ctx.req;
  if (headers['content-type'] === URLENCODED && headers['transfer-encoding'] === undefined && headers['content-length'] !== undefined && !Number.isNaN(Number(headers['content-length']))) return true;
  return Boolean(ctx.is(URLENCODED));
}

function useRequest(ctx: Context, req: IncomingMessage): void {
  ctx.req = req;
  ctx.request.req = req;
}

/**
 * The body, or undefined when it is over the limit. A body whose announced length is within
 * the limit is taken at once when it has arrived whole (receivedWhole), else read by its 'data'
 * events (Node's parser never delivers more than Content-Length announced); any other (chunked,
 * or announced too large) through the stream's async iterator, which stops reading once the
 * limit is passed.
 */
function readLimited(req: IncomingMessage): Promise<Buffer | undefined> {
  const announced = Number(req.headers['content-length']);
  if (req.headers['transfer-encoding'] === undefined && Number.isSafeInteger(announced) && announced >= 0 && announced <= FORM_BODY_LIMIT) {
    const whole = receivedWhole(req, announced);
    if (whole !== undefined) return Promise.resolve(whole);
    // Asked before any of the body was pushed: a step that runs before the request's first await
    // (the client_credentials path). A body that came in the packet of its headers is pushed by the
    // parser before the next microtask (the parser's callbacks run in one go): taken then, without
    // the listeners and closures of a read by events (≈ 1.3 KB a request, docs/PERFORMANCE.md, perf24).
    if (req.readableLength === 0 && req.readableFlowing === null && !req.readableEnded) return afterParserTurn(req, announced);
    return readAnnounced(req);
  }
  return readIterated(req);
}

async function afterParserTurn(req: IncomingMessage, announced: number): Promise<Buffer> {
  await undefined;
  return receivedWhole(req, announced) ?? readAnnounced(req);
}

/**
 * The body of a request whose parser already pushed all of it (the usual case for a form: it
 * comes in the packet with its headers, and once the request's first step awaited anything, the
 * parser has pushed it — Node's parser never pushes more than Content-Length announced), taken
 * from the request's buffer in one `read()`: no listeners, no flowing mode, no ticks until the
 * end event (docs/PERFORMANCE.md, twelfth round). Undefined when any of it is still to come, or
 * someone else started reading: then it is read by its events.
 */
function receivedWhole(req: IncomingMessage, announced: number): Buffer | undefined {
  if (req.readableFlowing !== null || req.readableEncoding !== null || req.readableLength !== announced) return undefined;
  if (announced === 0) return Buffer.alloc(0);
  const body: unknown = req.read();
  if (!Buffer.isBuffer(body)) return undefined;
  if (body.length === announced) return body;
  // Not what the buffer said it held (cannot happen with Node's parser): put back, read by events.
  req.unshift(body);
  return undefined;
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
      // A form usually comes in one chunk: handed on as it is, not copied into another buffer.
      if (error === undefined) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
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
 * A request whose body was read ahead: it hands that body out once more (replaceable until
 * then). The provider reads a body with `req.iterator()` (lib/shared/selective_body.js); for it,
 * the bytes are handed over as they are, without the stream machinery a pushed chunk goes
 * through (the async iterator's listeners, the buffer list, the end-of-stream wait: ≈ 15 µs of
 * an introspection or client_credentials request on a busy 2-core machine, docs/PERFORMANCE.md,
 * eleventh round). Anyone else reading it as a stream (events, `read()`, piping, or an iterator
 * asked for after a stream read began) gets the same bytes through `_read`, then its end; after
 * the provider's read, a stream read finds the end at once. The
 * socket is never touched: the original request owns it.
 */
class FormReplay extends IncomingMessage {
  #bytes: Buffer;
  #handedOut = false;

  constructor(socket: IncomingMessage['socket'], bytes: Buffer) {
    super(socket);
    this.#bytes = bytes;
  }

  /** Whether the body was handed out (replaceBody would come too late). */
  get handedOut(): boolean {
    return this.#handedOut;
  }

  replaceBody(bytes: Buffer): void {
    this.#bytes = bytes;
  }

  override _read(): void {
    if (!this.#handedOut) {
      this.#handedOut = true;
      this.push(this.#bytes);
    }
    this.push(null);
  }

  override iterator(options?: { destroyOnReturn?: boolean }): NodeJS.AsyncIterator<unknown> {
    // A stream read already under way (or over) keeps the stream's own iterator.
    if (this.#handedOut || this.readableFlowing !== null || this.readableLength > 0 || this.readableEnded) return super.iterator(options);
    this.#handedOut = true;
    // Read later as a stream, it ends at once (_read).
    return once(this.#bytes);
  }

  override [Symbol.asyncIterator](): NodeJS.AsyncIterator<unknown> {
    return this.iterator();
  }
}

/** An async iterator that yields `value` once. */
function once(value: Buffer): NodeJS.AsyncIterator<unknown> {
  let given = false;
  return {
    next: async () => {
      if (given) return { done: true, value: undefined };
      given = true;
      return { done: false, value };
    },
    return: async () => {
      given = true;
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
    [Symbol.asyncDispose]: async () => {
      given = true;
    },
  };
}

/**
 * A request like `original` (method, URL, headers, socket) whose body is `body`, readable once
 * more. Content-Length follows the new body, so a replaced token of another length still
 * matches what the provider checks; `contentType`, when given, replaces the original's.
 */
function replayable(original: IncomingMessage, bytes: Buffer, contentType?: string): IncomingMessage {
  const replay = new FormReplay(original.socket, bytes);
  replay.method = original.method;
  replay.url = original.url;
  replay.httpVersion = original.httpVersion;
  replay.httpVersionMajor = original.httpVersionMajor;
  replay.httpVersionMinor = original.httpVersionMinor;
  const headers = { ...original.headers, 'content-length': String(bytes.length), ...(contentType === undefined ? {} : { 'content-type': contentType }) };
  delete headers['transfer-encoding'];
  replay.headers = headers;
  replay.rawHeaders = rawHeadersOf(headers);
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
