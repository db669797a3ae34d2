import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';

const COOKIE = 'gatehouse.csrf';

/**
 * Double-submit CSRF protection with a signed, HttpOnly cookie: the page embeds the token in
 * every form; a POST must bring the same token in the form and in the cookie.
 */
export function issueCsrfToken(ctx: Context, cookie: { readonly secure: boolean; readonly path: string }): string {
  const existing = ctx.cookies.get(COOKIE, { signed: true });
  const token = existing !== undefined && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : randomBytes(32).toString('base64url');
  ctx.cookies.set(COOKIE, token, { signed: true, httpOnly: true, sameSite: 'lax', secure: cookie.secure, path: cookie.path, overwrite: true });
  return token;
}

export function checkCsrfToken(ctx: Context, submitted: string | undefined): boolean {
  const expected = ctx.cookies.get(COOKIE, { signed: true });
  if (expected === undefined || submitted === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}
