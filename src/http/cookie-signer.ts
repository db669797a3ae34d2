import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** Signatures remembered for the checks that follow them (a few hundred bytes each at most), per signing key. */
const RECENT_SIGNATURES = 256;
/** Signing keys whose recent signatures are kept: the current one and a few before it (key rotations). */
const RECENT_KEYS = 4;

/** keygrip's signature: HMAC-SHA1, base64url without padding. */
const hmacSha1: Hmac = (key, data) => createHmac('sha1', key).update(data).digest('base64url');

type Hmac = (key: KeyObject, data: string) => string;

/**
 * The last signatures made with each signing key (data → digest), oldest first, shared by every
 * signer with that first key (and HMAC): the provider's and the Koa app's sign and check each
 * other's cookies (an HMAC is a function of the key and the data: a remembered digest is the digest).
 */
const recentByHmac = new WeakMap<Hmac, Map<string, Map<string, string>>>();
function recentFor(hmac: Hmac, key: string): Map<string, string> {
  let byKey = recentByHmac.get(hmac);
  if (byKey === undefined) {
    byKey = new Map();
    recentByHmac.set(hmac, byKey);
  }
  let recent = byKey.get(key);
  if (recent === undefined) {
    if (byKey.size >= RECENT_KEYS) byKey.delete(byKey.keys().next().value!);
    recent = new Map();
    byKey.set(key, recent);
  }
  return recent;
}

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
export function cookieSigner(keys: readonly string[], { hmac = hmacSha1 }: { hmac?: Hmac } = {}): CookieSigner {
  if (keys.length === 0) throw new Error('cookie keys must be provided');
  const prepared: KeyObject[] = keys.map((key) => createSecretKey(Buffer.from(key, 'utf8')));
  const digestWith = hmac;
  /**
   * The last signatures this signer made (data → digest with the first key), oldest first. The
   * cookies it signs are checked again moments later: the interaction cookie set at /auth by the
   * sign-in page the browser follows to at once, the resume cookie the form POST presents
   * (src/interactions/resume-here.ts) by the provider in the same request. Only what it signed
   * goes in (never a presented cookie's value), and a check still compares in constant time.
   */
  const recent = recentFor(hmac, keys[0]!);
  const sign = (data: string): string => {
    let digest = recent.get(data);
    if (digest !== undefined) return digest;
    digest = digestWith(prepared[0]!, data);
    if (recent.size >= RECENT_SIGNATURES) recent.delete(recent.keys().next().value!);
    recent.set(data, digest);
    return digest;
  };
  const index = (data: string, digest: string): number => {
    if (typeof digest !== 'string') return -1;
    const given = Buffer.from(digest, 'latin1');
    for (let i = 0; i < prepared.length; i++) {
      const expected = Buffer.from((i === 0 ? recent.get(data) : undefined) ?? digestWith(prepared[i]!, data), 'latin1');
      if (expected.length === given.length && timingSafeEqual(expected, given)) return i;
    }
    return -1;
  };
  return {
    sign,
    verify: (data, digest) => index(data, digest) !== -1,
    index,
  };
}
