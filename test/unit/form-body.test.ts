import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import Koa, { type Context } from 'koa';
import { parse as parseQuery } from 'node:querystring';
import { bufferedForm, FORM_BODY_LIMIT, parseForm, replaceForm } from '../../src/http/form-body.ts';

/** What the provider does with the request it is handed (lib/shared/selective_body.js): checks it is readable and reads it to its end. */
async function readAsTheProvider(req: IncomingMessage): Promise<{ readable: boolean; length: string | undefined; body: string; raw: string[] }> {
  const readable = req.readable;
  const chunks: Buffer[] = [];
  for await (const chunk of req.iterator({ destroyOnReturn: false })) chunks.push(chunk as Buffer);
  return { readable, length: req.headers['content-length'], body: Buffer.concat(chunks).toString('utf8'), raw: req.rawHeaders };
}

/** Reads a request by its 'data' events, as a stream reader other than the provider would. */
function readByEvents(req: IncomingMessage): Promise<{ data: string; ended: boolean }> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
    req.once('end', () => resolve({ data, ended: true }));
    req.once('error', reject);
  });
}

/** Serves `handle` on a real socket and sends it one request. */
async function exchange(handle: (ctx: Context) => Promise<void>, body: string, headers: Record<string, string> = {}, chunked = false, inTwoParts = false): Promise<unknown> {
  const app = new Koa();
  let result: unknown;
  app.use(async (ctx) => {
    try {
      await handle(ctx);
    } catch (error) {
      result = error;
    }
    ctx.body = 'ok';
  });
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      const req = request(
        { port: (server.address() as AddressInfo).port, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(chunked ? {} : { 'content-length': Buffer.byteLength(body) }), ...headers } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      if (chunked || inTwoParts) {
        req.write(body.slice(0, 5));
        setTimeout(() => req.end(body.slice(5)), inTwoParts ? 50 : 0);
      } else req.end(body);
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  return result;
}

describe('forms read ahead of the provider (src/http/form-body.ts)', () => {
  it('reads the form and hands on a request with the very same body, readable once more', async () => {
    let seen: unknown;
    await exchange(async (ctx) => {
      const form = await bufferedForm(ctx);
      expect(form).to.deep.equal({ params: { token: 'abc', token_type_hint: 'access_token' } });
      expect(await bufferedForm(ctx), 'read once per request').to.equal(form);
      seen = await readAsTheProvider(ctx.req);
    }, 'token=abc&token_type_hint=access_token');
    expect(seen).to.deep.include({ readable: true, length: '38', body: 'token=abc&token_type_hint=access_token' });
  });

  it('a form replaced before anyone read it: the same replay hands out the new body, with its Content-Length (raw headers too)', async () => {
    let seen: { body: string; length: string | undefined; raw: string[] } | undefined;
    let same = false;
    await exchange(async (ctx) => {
      await bufferedForm(ctx);
      const replay = ctx.req;
      replaceForm(ctx, { token: 'a-much-longer-record-id' });
      same = ctx.req === replay;
      seen = await readAsTheProvider(ctx.req);
    }, 'token=abc');
    expect(same, 'no second request made').to.equal(true);
    expect(seen?.body).to.equal('token=a-much-longer-record-id');
    expect(seen?.length).to.equal(String('token=a-much-longer-record-id'.length));
    const raw = seen?.raw ?? [];
    expect(raw[raw.indexOf('content-length') + 1]).to.equal(seen?.length);
  });

  it("the replay's raw headers list every header as Node's parser does, and follow a replacement even when read before it", async () => {
    let before: string[] = [];
    let after: string[] = [];
    await exchange(
      async (ctx) => {
        await bufferedForm(ctx);
        before = [...ctx.req.rawHeaders];
        const live = ctx.req.rawHeaders;
        replaceForm(ctx, { token: 'a-much-longer-record-id' });
        after = ctx.req.rawHeaders;
        expect(after, 'the same list, updated').to.equal(live);
      },
      'token=abc',
      { 'x-forwarded-for': '203.0.113.7' },
    );
    const pairs = (raw: string[]) => Array.from({ length: raw.length / 2 }, (_, index) => [raw[2 * index], raw[2 * index + 1]]);
    expect(pairs(before)).to.deep.include.members([
      ['content-type', 'application/x-www-form-urlencoded'],
      ['content-length', '9'],
      ['x-forwarded-for', '203.0.113.7'],
    ]);
    expect(pairs(after)).to.deep.include(['content-length', String('token=a-much-longer-record-id'.length)]);
    expect(after.length).to.equal(before.length);
  });

  it('a form replaced after its replay was read: a new request with the new body', async () => {
    let seen: { body: string; length: string | undefined } | undefined;
    await exchange(async (ctx) => {
      await bufferedForm(ctx);
      const replay = ctx.req;
      await readAsTheProvider(replay);
      replaceForm(ctx, { token: 'other' });
      expect(ctx.req).not.to.equal(replay);
      seen = await readAsTheProvider(ctx.req);
    }, 'token=abc');
    expect(seen).to.deep.include({ body: 'token=other', length: '11' });
  });

  it("the provider's read takes the body as it is, past the stream: nothing goes through the stream's events, which then end at once", async () => {
    let seen: { body: string } | undefined;
    let after: { data: string; ended: boolean } | undefined;
    const failure = await exchange(async (ctx) => {
      await bufferedForm(ctx);
      seen = await readAsTheProvider(ctx.req);
      expect(ctx.req.readableDidRead, 'no chunk went through the stream').to.equal(false);
      after = await readByEvents(ctx.req);
    }, 'token=abc');
    expect(failure).to.equal(undefined);
    expect(seen?.body).to.equal('token=abc');
    expect(after).to.deep.equal({ data: '', ended: true });
  });

  it('a replay read as a stream first hands out its body once: an iterator asked for afterwards finds the end', async () => {
    let first: { data: string; ended: boolean } | undefined;
    let second: string | undefined;
    await exchange(async (ctx) => {
      await bufferedForm(ctx);
      replaceForm(ctx, { token: 'replaced' });
      first = await readByEvents(ctx.req);
      second = (await readAsTheProvider(ctx.req)).body;
    }, 'token=abc');
    expect(first).to.deep.equal({ data: 'token=replaced', ended: true });
    expect(second).to.equal('');
  });

  it('a form announced as urlencoded with a charset, or in capitals, is still read as a form; another type is not', async () => {
    const forms: unknown[] = [];
    for (const type of ['application/x-www-form-urlencoded; charset=utf-8', 'Application/X-WWW-Form-Urlencoded', 'application/json']) {
      await exchange(async (ctx) => {
        forms.push(await bufferedForm(ctx));
      }, 'token=abc', { 'content-type': type });
    }
    expect(forms).to.deep.equal([{ params: { token: 'abc' } }, { params: { token: 'abc' } }, 'not_a_form']);
  });

  it('a form that arrived whole before it is read is taken from the request at once: no listener, the stream never set flowing', async () => {
    let form: unknown;
    let flowing: boolean | null = null;
    let replayed: { readable: boolean; body: string } | undefined;
    await exchange(async (ctx) => {
      const original = ctx.req;
      // The form came with its headers: the parser has pushed it once the first step awaited anything.
      await null;
      form = await bufferedForm(ctx);
      flowing = original.readableFlowing;
      replayed = await readAsTheProvider(ctx.req);
    }, 'token=abc&token_type_hint=access_token');
    expect(form).to.deep.equal({ params: { token: 'abc', token_type_hint: 'access_token' } });
    expect(flowing, 'read without switching the request to flowing mode').to.equal(null);
    expect(replayed).to.include({ readable: true, body: 'token=abc&token_type_hint=access_token' });
  });

  it('a form asked for before the parser pushed it (no await yet) is taken a microtask later: no listener, the stream never set flowing', async () => {
    let form: unknown;
    let pushedAtFirst = -1;
    let flowing: boolean | null = null;
    let listeners = -1;
    let replayed: { readable: boolean; body: string } | undefined;
    await exchange(async (ctx) => {
      const original = ctx.req;
      // Koa runs this step from the request event, before the parser pushes the body that came with the headers.
      pushedAtFirst = original.readableLength;
      form = await bufferedForm(ctx);
      flowing = original.readableFlowing;
      listeners = original.listenerCount('data') + original.listenerCount('end');
      replayed = await readAsTheProvider(ctx.req);
    }, 'grant_type=client_credentials&scope=read');
    expect(pushedAtFirst, 'nothing pushed when the step began').to.equal(0);
    expect(form).to.deep.equal({ params: { grant_type: 'client_credentials', scope: 'read' } });
    expect(flowing, 'read without switching the request to flowing mode').to.equal(null);
    expect(listeners, 'no data or end listener left or added').to.equal(0);
    expect(replayed).to.include({ readable: true, body: 'grant_type=client_credentials&scope=read' });
  });

  it('a form whose announced body is still arriving is read to its end', async () => {
    let form: unknown;
    await exchange(async (ctx) => {
      form = await bufferedForm(ctx);
    }, 'token=sent-in-two-parts', {}, false, true);
    expect(form).to.deep.equal({ params: { token: 'sent-in-two-parts' } });
  });

  it('reads a chunked body (no Content-Length) too', async () => {
    let form: unknown;
    await exchange(async (ctx) => {
      form = await bufferedForm(ctx);
    }, 'token=chunked-body', {}, true);
    expect(form).to.deep.equal({ params: { token: 'chunked-body' } });
  });

  it('a body over the provider\'s limit is refused as too large, whether its length is announced or not', async () => {
    const big = `token=${'x'.repeat(FORM_BODY_LIMIT)}`;
    let announced: unknown;
    let chunked: unknown;
    await exchange(async (ctx) => {
      announced = await bufferedForm(ctx);
    }, big);
    await exchange(async (ctx) => {
      chunked = await bufferedForm(ctx);
    }, big, {}, true);
    expect(announced).to.equal('too_large');
    expect(chunked).to.equal('too_large');
  });

  it('parses a form exactly as querystring does: names and values in order, repeated names in arrays, no prototype, its 1,000-piece limit', () => {
    // A fixed pseudo-random sequence (no Math.random: the same inputs on every run).
    let seed = 21;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const alphabet = ['a', 'b', 'token', '=', '&', '&', '%', '%2', '%41', '+', 'é', '_', '.', '__proto__', 'constructor', ' '];
    const texts = ['', '&', '=', '==', '&&', 'a', 'a=', '=a', 'a=b=c', '&&a', 'a&&', '=&=', 'a=1&a&a=', 'a=1&b=2&a=3&a=4', '__proto__=x&constructor=y', 'grant_type=client_credentials&scope=read'];
    for (const pieces of [999, 1000, 1001, 1002]) {
      const names = Array.from({ length: pieces }, (_, index) => `k${index}=v`);
      texts.push(names.join('&'), `${names.join('&')}&`, `&${names.join('&')}`, `x${'&'.repeat(pieces)}b=1`, `${'&'.repeat(pieces - 1)}last=1`);
    }
    for (let index = 0; index < 2000; index += 1) {
      const length = Math.floor(next() * 24);
      texts.push(Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''));
    }
    for (const text of texts) {
      const mine = parseForm(text);
      const theirs = parseQuery(text);
      expect(Object.getPrototypeOf(mine), text).to.equal(null);
      expect(JSON.stringify(Object.entries(mine)), text).to.equal(JSON.stringify(Object.entries(theirs)));
    }
  });
});
