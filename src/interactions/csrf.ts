import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { CookieSigner } from '../http/cookie-signer.ts';

const COOKIE = 'gatehouse.csrf';
/** The provider's sign-in session cookie (oidc-provider's default name; signed with the same keys as ours). */
const SESSION_COOKIE = '_session';
const NONCE = /^[A-Za-z0-9_-]{43}$/;

/**
 * What a form's token is bound to besides the browser's CSRF cookie. Each is something a page on
 * a sibling subdomain can neither plant nor learn: the sign-in session's id (a cookie value) and
 * what the form acts on (an interaction uid, an emailed link's token).
 */
export interface CsrfBinding {
  /** The sign-in session's id, where the browser has one. */
  readonly session?: string | undefined;
  /** The interaction or link the form belongs to. */
  readonly form?: string | undefined;
}

/** The browser's sign-in session id, read from the provider's signed session cookie; undefined without one. */
export function browserSession(ctx: Context): string | undefined {
  return ctx.cookies.get(SESSION_COOKIE, { signed: true }) || undefined;
}

/**
 * The form token: an HMAC (the cookie keys, so it survives their rotation like the cookies do)
 * of the cookie's random nonce and the binding. The cookie alone is not enough: its value and
 * signature can be planted from a sibling subdomain (cookie tossing) as a pair a page once gave
 * the attacker, with that page's token — which then fits no other interaction, session or link.
 */
function formToken(ctx: Context, nonce: string, binding: CsrfBinding): string {
  const signer = ctx.app.keys as unknown as CookieSigner;
  return signer.sign(formData(nonce, binding));
}

const formData = (nonce: string, binding: CsrfBinding) => `gatehouse.csrf-form|${nonce}|${binding.session ?? ''}|${binding.form ?? ''}`;

/**
 * Signed double-submit CSRF protection: a signed, HttpOnly cookie holds a random nonce; the page
 * embeds a token derived from it and from the binding in every form; a POST must bring a token
 * that matches the cookie's nonce and the binding of the request it is posted to.
 */
export function issueCsrfToken(ctx: Context, cookie: { readonly secure: boolean; readonly path: string }, binding: CsrfBinding = {}): string {
  const existing = ctx.cookies.get(COOKIE, { signed: true });
  const nonce = existing !== undefined && NONCE.test(existing) ? existing : randomBytes(32).toString('base64url');
  ctx.cookies.set(COOKIE, nonce, { signed: true, httpOnly: true, sameSite: 'lax', secure: cookie.secure, path: cookie.path, overwrite: true });
  return formToken(ctx, nonce, binding);
}

export function checkCsrfToken(ctx: Context, submitted: string | undefined, binding: CsrfBinding = {}): boolean {
  const nonce = ctx.cookies.get(COOKIE, { signed: true });
  if (nonce === undefined || !NONCE.test(nonce) || submitted === undefined) return false;
  const signer = ctx.app.keys as unknown as CookieSigner;
  return signer.verify(formData(nonce, binding), submitted);
}
