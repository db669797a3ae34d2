import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** What the `cookies` package (Koa's ctx.cookies) asks of `app.keys` when it is not an array: keygrip's interface. */
export interface CookieSigner {
  sign(data: string): string;
  verify(data: string, digest: string): boolean;
  /** The index of the key that made `digest`, or -1. */
  index(data: string, digest: string): number;
}

/**
 * Signed cookies as keygrip signs them — HMAC-SHA1 of `name=value` with the first key, base64url
 * without padding, checked against every key in turn — so the signatures are the same both ways
 * (cookies signed before an upgrade stay valid, and a keygrip elsewhere reads ours). What differs
 * is the cost: keygrip turns the key string into a key on every HMAC, and its comparison
 * (tsscmp) draws random bytes and computes two more HMACs per check; here the keys are made once
 * and one HMAC is compared in constant time (lengths first: a signature's length is no secret).
 * A sign-in checks and sets about a dozen signed cookies (docs/PERFORMANCE.md, seventh round).
 */
export function cookieSigner(keys: readonly string[]): CookieSigner {
  if (keys.length === 0) throw new Error('cookie keys must be provided');
  const prepared: KeyObject[] = keys.map((key) => createSecretKey(Buffer.from(key, 'utf8')));
  const digestWith = (key: KeyObject, data: string) => createHmac('sha1', key).update(data).digest('base64url');
  const index = (data: string, digest: string): number => {
    if (typeof digest !== 'string') return -1;
    const given = Buffer.from(digest, 'latin1');
    for (let i = 0; i < prepared.length; i++) {
      const expected = Buffer.from(digestWith(prepared[i]!, data), 'latin1');
      if (expected.length === given.length && timingSafeEqual(expected, given)) return i;
    }
    return -1;
  };
  return {
    sign: (data) => digestWith(prepared[0]!, data),
    verify: (data, digest) => index(data, digest) !== -1,
    index,
  };
}
