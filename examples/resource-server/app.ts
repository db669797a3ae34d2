import { createHash } from 'node:crypto';
import Koa, { type Context } from 'koa';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import * as client from 'openid-client';

export interface ResourceServerOptions {
  readonly issuer: string;
  /** This API's identifier: the `aud` its tokens carry. */
  readonly audience: string;
  /** The API's own client, for introspecting opaque tokens (`gatehouse apis update … --introspection-client`). */
  readonly introspection?: { readonly clientId: string; readonly clientSecret: string } | undefined;
  /** How long an introspection answer is reused: short, so a revocation shows within it. */
  readonly introspectionCacheSeconds?: number;
  /** Clock seam (milliseconds), for tests. */
  readonly now?: () => number;
  /** Least time between two JWKS fetches triggered by unknown `kid`s (jose's default: 30 s). */
  readonly jwksCooldownSeconds?: number;
  /** Only for a local Gatehouse over plain HTTP. */
  readonly allowInsecureHttp?: boolean;
}

/** Who is calling, whichever way the token was checked. */
export interface Caller {
  readonly sub: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
}

class Refusal extends Error {
  readonly status: 401 | 403;
  readonly code: 'invalid_token' | 'insufficient_scope';

  constructor(status: 401 | 403, code: 'invalid_token' | 'insufficient_scope', message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

function callerOf(claims: JWTPayload | client.IntrospectionResponse): Caller {
  return {
    sub: String(claims.sub),
    clientId: String(claims.client_id),
    scopes: typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [],
    roles: list((claims as Record<string, unknown>).roles),
  };
}

/**
 * An API that accepts Gatehouse access tokens. JWTs are validated locally against the JWKS
 * (jose caches the key set and refetches it when a token names a `kid` it has not seen, which is
 * how a `gatehouse keys rotate` reaches it); opaque tokens are introspected, with answers cached
 * for a few seconds. Routes then require scopes and roles (RBAC from the `roles` claim).
 */
export function resourceServer(options: ResourceServerOptions): Koa {
  const now = options.now ?? Date.now;
  const cacheMs = (options.introspectionCacheSeconds ?? 5) * 1000;
  const jwks = createRemoteJWKSet(new URL(`${options.issuer.replace(/\/$/, '')}/jwks`), { cooldownDuration: (options.jwksCooldownSeconds ?? 30) * 1000 });
  const introspected = new Map<string, { caller: Caller | undefined; until: number }>();
  let config: Promise<client.Configuration> | undefined;

  async function introspect(token: string): Promise<Caller | undefined> {
    if (options.introspection === undefined) return undefined;
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = introspected.get(key);
    if (hit !== undefined && hit.until > now()) return hit.caller;
    const { clientId, clientSecret } = options.introspection;
    config ??= client.discovery(new URL(options.issuer), clientId, clientSecret, undefined, options.allowInsecureHttp ? { execute: [client.allowInsecureRequests] } : undefined);
    const answer = await client.tokenIntrospection(await config, token);
    const audiences = list(Array.isArray(answer.aud) ? answer.aud : [answer.aud]);
    const caller = answer.active && audiences.includes(options.audience) ? callerOf(answer) : undefined;
    introspected.set(key, { caller, until: now() + cacheMs });
    return caller;
  }

  async function authenticate(ctx: Context): Promise<Caller> {
    const token = /^Bearer ([^\s]+)$/i.exec(ctx.get('authorization'))?.[1];
    if (token === undefined) throw new Refusal(401, 'invalid_token', 'a bearer token is required');
    if (token.split('.').length === 3) {
      try {
        const { payload } = await jwtVerify(token, jwks, { issuer: options.issuer, audience: options.audience, typ: 'at+jwt', currentDate: new Date(now()) });
        return callerOf(payload);
      } catch {
        throw new Refusal(401, 'invalid_token', 'the token is invalid, expired or for another API');
      }
    }
    const caller = await introspect(token);
    if (caller === undefined) throw new Refusal(401, 'invalid_token', 'the token is not active for this API');
    return caller;
  }

  function require(caller: Caller, scope: string, role?: string): void {
    if (!caller.scopes.includes(scope)) throw new Refusal(403, 'insufficient_scope', `the token lacks the scope ${scope}`);
    if (role !== undefined && !caller.roles.includes(role)) throw new Refusal(403, 'insufficient_scope', `the user lacks the role ${role}`);
  }

  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      ctx.status = error.status;
      ctx.set('WWW-Authenticate', `Bearer error="${error.code}", error_description="${error.message}"`);
      ctx.body = { error: error.code, error_description: error.message };
    }
  });
  app.use(async (ctx) => {
    if (ctx.path !== '/orders') return;
    const caller = await authenticate(ctx);
    if (ctx.method === 'GET') {
      require(caller, 'read');
      ctx.body = { orders: [], for: caller.sub };
    } else if (ctx.method === 'POST') {
      require(caller, 'write', 'editor');
      ctx.status = 201;
      ctx.body = { created: true, by: caller.sub };
    }
  });
  return app;
}
