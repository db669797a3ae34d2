import { createHmac, type KeyObject } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { expect } from 'chai';
import Keygrip from 'keygrip';
import Koa from 'koa';
import { cookieSigner } from '../../src/http/cookie-signer.ts';

/** A Koa context on a request carrying `cookie`, for reading and setting cookies as the server does. */
function contextOf(app: Koa, cookie = '') {
  const req = new IncomingMessage(new Socket());
  req.headers = { cookie };
  const res = new ServerResponse(req);
  return { ctx: app.createContext(req, res), res };
}

describe('cookie signer (keygrip-compatible signed cookies)', () => {
  const keys = ['first-key-0123456789abcdefghijklmnopqrstuv', 'second-key-ÿé-unicode', 'third'];
  const data = '_session=AbC-123_xyz';

  it('signs exactly as keygrip does, and each accepts the other', () => {
    const keygrip = new Keygrip(keys);
    const signer = cookieSigner(keys);
    for (const value of [data, '', 'gatehouse.csrf=Ω≈ç√', '_interaction_resume=' + 'x'.repeat(500)]) {
      expect(signer.sign(value)).to.equal(keygrip.sign(value));
      expect(signer.index(value, keygrip.sign(value))).to.equal(0);
      expect(keygrip.index(value, signer.sign(value))).to.equal(0);
    }
  });

  it('names the key that made a signature (rotation: older keys still verify)', () => {
    const signer = cookieSigner(keys);
    keys.forEach((key, i) => {
      const digest = new Keygrip([key]).sign(data);
      expect(signer.index(data, digest)).to.equal(i);
      expect(signer.verify(data, digest)).to.equal(true);
    });
    expect(cookieSigner(['another']).index(data, signer.sign(data))).to.equal(-1);
  });

  it('refuses a wrong, altered, shortened, padded or missing signature', () => {
    const signer = cookieSigner(keys);
    const digest = signer.sign(data);
    const flipped = (digest[0] === 'A' ? 'B' : 'A') + digest.slice(1);
    for (const bad of [flipped, digest.slice(1), `${digest}=`, `${digest}A`, '', signer.sign('_session=other')]) {
      expect(signer.index(data, bad), bad).to.equal(-1);
      expect(signer.verify(data, bad), bad).to.equal(false);
    }
    expect(signer.index(data, undefined as unknown as string)).to.equal(-1);
  });

  it("is Koa's app.keys: a cookie signed with the keys as an array (keygrip) reads back through it, and the other way round", () => {
    const withKeygrip = new Koa({ keys: [...keys] });
    const withSigner = new Koa();
    withSigner.keys = cookieSigner(keys);
    for (const [writer, reader] of [[withKeygrip, withSigner], [withSigner, withKeygrip]] as const) {
      const { ctx, res } = contextOf(writer);
      ctx.cookies.set('_session', 'AbC-123', { signed: true });
      const setCookies = (res.getHeader('set-cookie') as string[]).map((line) => line.split(';')[0]!);
      expect(setCookies.map((pair) => pair.split('=')[0])).to.deep.equal(['_session', '_session.sig']);
      expect(contextOf(reader, setCookies.join('; ')).ctx.cookies.get('_session', { signed: true })).to.equal('AbC-123');
      const forged = setCookies[0]!.replace('AbC-123', 'AbC-124');
      expect(contextOf(reader, [forged, setCookies[1]].join('; ')).ctx.cookies.get('_session', { signed: true })).to.equal(undefined);
    }
  });

  /**
   * A cookie it signed is checked again moments later (the interaction cookie by the sign-in page,
   * the resume cookie presented in the form POST by the provider): the signature it made is
   * remembered, for every signer with the same key (the app's and the provider's), so that check
   * computes no HMAC. Only what it signed is remembered, and the outcomes are the same.
   */
  it('remembers the signatures it made for the checks that follow, shared by signers with the same key', () => {
    const made: string[] = [];
    const hmac = (key: KeyObject, value: string) => {
      made.push(value);
      return createHmac('sha1', key).update(value).digest('base64url');
    };
    const app = cookieSigner(keys, { hmac });
    const provider = cookieSigner([...keys], { hmac });
    const digest = app.sign(data);
    expect(digest).to.equal(new Keygrip(keys).sign(data));
    expect(app.sign(data)).to.equal(digest);
    expect(provider.index(data, digest)).to.equal(0);
    expect(made, 'one HMAC for all of it').to.deep.equal([data]);
    // A wrong signature is still refused: the first key's digest remembered, the older keys' computed.
    expect(provider.verify(data, 'wrong')).to.equal(false);
    expect(made).to.have.length(keys.length);
    // A value it did not sign is computed at each check and not remembered.
    const presented = '_session=presented';
    const theirs = new Keygrip(keys).sign(presented);
    expect(app.index(presented, theirs)).to.equal(0);
    expect(app.index(presented, theirs)).to.equal(0);
    expect(made.filter((value) => value === presented)).to.have.length(2);
    // An older key's signature is still checked against that key.
    expect(app.index(data, new Keygrip([keys[1]!]).sign(data))).to.equal(1);
    // Another first key has its own.
    const other = cookieSigner(['another-key'], { hmac });
    made.length = 0;
    expect(other.index(data, digest)).to.equal(-1);
    expect(made).to.deep.equal([data]);
    // Bounded: the oldest go first.
    for (let i = 0; i < 300; i++) app.sign(`_interaction=${i}`);
    made.length = 0;
    app.sign(data);
    app.sign('_interaction=299');
    expect(made).to.deep.equal([data]);
  });

  it('needs a key', () => {
    expect(() => cookieSigner([])).to.throw(/cookie keys/);
  });
});
