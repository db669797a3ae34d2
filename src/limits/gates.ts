import type { IncomingMessage } from 'node:http';
import type { Context, Middleware } from 'koa';
import { ipKey } from '../accounts/ip-key.ts';
import { guarding } from '../routes/guards.ts';
import { providerRouteAt } from '../routes/match.ts';
import { CLIENT_AUTH_ROUTES, type RoutesTable } from '../routes/table.ts';
import type { AttemptLimiter } from './attempt-limits.ts';
import { bufferedForm, refuseTooLarge } from '../http/form-body.ts';
import { clientAuthKey, namesClientInHeader } from './client-auth-key.ts';


/**
 * In front of the provider: a (client, IP) key with too many failed client authentications
 * gets 429 and Retry-After before the library looks at the request. Failures are counted from the
 * provider's error events (src/oidc/client-auth-failures.ts).
 */
export function clientAuthGate(limiter: AttemptLimiter, routes: RoutesTable): Middleware {
  return guarding(CLIENT_AUTH_ROUTES, async (ctx, next) => {
    if (ctx.method !== 'POST') return next();
    const route = providerRouteAt(routes, ctx.path);
    if (route === undefined || !CLIENT_AUTH_ROUTES.has(route)) return next();
    const authorization = ctx.get('authorization');
    let params: Record<string, unknown> | undefined;
    if (!namesClientInHeader(authorization)) {
      // Body-based client authentication: read the form (the provider gets it back intact).
      const form = await bufferedForm(ctx);
      if (form === 'too_large') return refuseTooLarge(ctx);
      if (form !== 'not_a_form') params = form.params;
    }
    const key = clientAuthKey(authorization, params, ctx.ip);
    // A key whose "no block" is remembered goes on without a promise and a turn of its own.
    if (limiter.knownClear?.(key) === true) return next();
    const retryAfter = await limiter.retryAfter(key);
    if (retryAfter === 0) return next();
    ctx.status = 429;
    ctx.set('Retry-After', String(retryAfter));
    ctx.set('Cache-Control', 'no-store');
    // invalid_client is the token endpoint's code for failed client authentication (RFC 6749 §5.2).
    ctx.body = { error: 'invalid_client', error_description: 'too many failed client authentication attempts; retry later' };
  });
}

/**
 * Requests whose user code the provider found wrong, marked by the device page
 * (src/interactions/provider-pages.ts). Kept by request, not on a Koa context: the provider may
 * run in its own Koa app behind Gatehouse's (src/oidc/mount.ts), with a context of its own.
 */
const wrongUserCodes = new WeakSet<IncomingMessage>();

/** The device page says the code of this request was wrong: the gate keeps it counted. */
export function markWrongUserCode(req: IncomingMessage): void {
  wrongUserCodes.add(req);
}

/**
 * In front of the provider's device page: an IP with too many wrong user codes gets a 429 page
 * (src/interactions/device-blocked.ts renders it). Each code entry is counted before the provider
 * checks it, in the same step as the limit (reserve()), so codes sent together on many
 * connections cannot all be checked before the first is counted; an entry that turned out not
 * to be a wrong code (the right one, none, an error) is taken back.
 */
export function userCodeGate(limiter: AttemptLimiter, tooManyCodes: (ctx: Context) => Promise<void>, routes: RoutesTable): Middleware {
  return guarding(['code_verification'], async (ctx, next) => {
    if (ctx.method !== 'POST' || providerRouteAt(routes, ctx.path) !== 'code_verification') return next();
    const key = ipKey(ctx.ip);
    const retryAfter = await limiter.reserve(key);
    if (retryAfter === 0) {
      try {
        await next();
      } finally {
        if (!wrongUserCodes.has(ctx.req)) await limiter.takeBack(key);
      }
      return;
    }
    ctx.set('Retry-After', String(retryAfter));
    await tooManyCodes(ctx);
  });
}
