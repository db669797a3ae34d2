import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { readJson } from '../admin/json-body.ts';
import { addressKey } from '../accounts/normalize.ts';
import { GatehouseError, NotFoundError } from '../errors/gatehouse-error.ts';
import { problemText } from '../errors/problems.ts';
import { errorResponder } from '../errors/respond.ts';
import type { Logger } from '../observability/logger.ts';
import type { OwnAccountOperations, Self } from '../operations/own-account.ts';
import { RECENT_SIGN_IN_SECONDS, signInAgain, type AccountCaller } from './auth.ts';

interface AccountRoute {
  readonly method: 'get' | 'post' | 'patch' | 'delete';
  readonly path: string;
  /**
   * Changes how the user signs in: only within RECENT_SIGN_IN_SECONDS of a sign-in (RFC 9470
   * step-up); a function decides by the request (its JSON body, once read).
   */
  readonly recent?: boolean | ((self: Self, body: unknown) => boolean);
  readonly body?: boolean;
  handle(self: Self, params: Record<string, string>, body: unknown): Promise<unknown>;
}

/** The body's email as compared for sameness (addressKey); a value that is not a string is none (the schema refuses it). */
const addressOf = (email: unknown): string | null => (typeof email === 'string' ? addressKey(email) : null);

/**
 * A profile change that replaces or removes the email address. The address is a login and where
 * password-reset links go: a token left in a browser must not redirect them (change the address,
 * then reset the password) any more than it may change the password without the current one.
 */
const changesEmail = (self: Self, body: unknown): boolean =>
  typeof body === 'object' && body !== null && 'email' in body && addressOf((body as { email: unknown }).email) !== addressKey(self.user.email);

/** Every account API route, read top to bottom; each one is an own-account operation. */
export function accountRoutes(ops: OwnAccountOperations): AccountRoute[] {
  const none = async () => undefined;
  return [
    { method: 'get', path: '/profile', handle: async (self) => ops.profile(self) },
    { method: 'patch', path: '/profile', recent: changesEmail, body: true, handle: async (self, _p, body) => ops.profile({ ...self, user: await ops.updateProfile(self, body) }) },
    { method: 'post', path: '/profile/pending-email', recent: true, handle: (self) => ops.resendEmailChange(self).then(none) },
    { method: 'delete', path: '/profile/pending-email', handle: (self) => ops.cancelEmailChange(self).then(none) },
    { method: 'post', path: '/password', body: true, handle: async (self, _p, body) => ({ signed_out_sessions: (await ops.changePassword(self, body)).signedOut }) },
    { method: 'post', path: '/password/new', recent: true, body: true, handle: (self, _p, body) => ops.addPassword(self, body).then(none) },
    { method: 'get', path: '/sessions', handle: (self) => ops.sessions(self) },
    { method: 'delete', path: '/sessions', handle: async (self) => ({ ended: await ops.endOtherSessions(self) }) },
    { method: 'delete', path: '/sessions/:id', handle: (self, params) => ops.endSession(self, params.id!).then(none) },
    { method: 'get', path: '/apps', handle: (self) => ops.apps(self) },
    { method: 'delete', path: '/apps/:clientId', handle: (self, params) => ops.revokeApp(self, params.clientId!).then(none) },
    { method: 'get', path: '/mfa', handle: (self) => ops.factors(self) },
    { method: 'post', path: '/mfa/totp', recent: true, handle: (self) => ops.beginTotp(self) },
    { method: 'post', path: '/mfa/totp/confirm', recent: true, body: true, handle: (self, _p, body) => ops.confirmTotp(self, body) },
    { method: 'delete', path: '/mfa/totp', recent: true, handle: (self) => ops.removeTotp(self).then(none) },
    { method: 'post', path: '/mfa/recovery-codes', recent: true, handle: (self) => ops.regenerateRecoveryCodes(self) },
    { method: 'post', path: '/mfa/passkeys/options', recent: true, handle: (self) => ops.passkeyOptions(self) },
    { method: 'post', path: '/mfa/passkeys', recent: true, body: true, handle: (self, _p, body) => ops.addPasskey(self, body) },
    { method: 'patch', path: '/mfa/passkeys/:id', body: true, handle: (self, params, body) => ops.renamePasskey(self, params.id!, body).then(none) },
    { method: 'delete', path: '/mfa/passkeys/:id', recent: true, handle: (self, params) => ops.removePasskey(self, params.id!).then(none) },
    { method: 'get', path: '/upstream-links', handle: (self) => ops.upstreamLinks(self) },
    { method: 'post', path: '/upstream-links/:alias', recent: true, handle: (self, params) => ops.startUpstreamLink(self, params.alias!) },
    { method: 'delete', path: '/upstream-links/:alias/:subject', recent: true, handle: (self, params) => ops.removeUpstreamLink(self, params.alias!, params.subject!).then(none) },
  ];
}

export interface AccountApiDeps {
  /** The API's path (routes table). */
  readonly path: string;
  /** The issuer's origin: a browser request from any other origin is refused. */
  readonly origin: string;
  readonly auth: Middleware;
  readonly operations: OwnAccountOperations;
  readonly logger: Logger;
  /** The clock that decides whether a sign-in is recent (tests move it). */
  readonly now?: () => Date;
}

/** The account page's API: JSON in and out, the account page's own tokens only. */
export function accountApi({ path, origin, auth, operations, logger, now = () => new Date() }: AccountApiDeps): Router {
  const router = new Router({ prefix: path });
  router.use(errorResponder({ logger }));
  // Bearer tokens already make cross-site requests useless; a foreign Origin is refused outright.
  router.use(async (ctx, next) => {
    const from = ctx.get('origin');
    if (from !== '' && from !== origin) throw new GatehouseError(problemText('cross_origin'), { status: 403, code: 'forbidden', expose: true, problem: { code: 'cross_origin' } });
    await next();
  });
  for (const route of accountRoutes(operations)) {
    router[route.method](route.path, auth, async (ctx: Context & { params: Record<string, string> }) => {
      const caller = ctx.state.caller as AccountCaller;
      const stale = () => caller.authTime === undefined || now().getTime() - caller.authTime * 1000 > RECENT_SIGN_IN_SECONDS * 1000;
      if (route.recent === true && stale()) throw signInAgain();
      const body = route.body ? await readJson(ctx) : undefined;
      const self: Self = { user: caller.user, sessionUid: caller.sessionUid, ip: ctx.ip, requestId: ctx.state.requestId as string | undefined };
      if (typeof route.recent === 'function' && route.recent(self, body) && stale()) throw signInAgain();
      const result = await route.handle(self, ctx.params, body);
      ctx.set('Cache-Control', 'no-store');
      if (result === undefined) ctx.status = 204;
      else ctx.body = result;
    });
  }
  router.all('/{*rest}', (ctx) => {
    throw new NotFoundError('account_route_not_found', { method: ctx.method, path: ctx.path });
  });
  return router;
}
