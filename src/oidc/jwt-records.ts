import { createHmac, randomBytes } from 'node:crypto';
import { parse as parseQuery, stringify as stringifyQuery } from 'node:querystring';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import type { Middleware } from 'koa';
import type { Configuration } from 'oidc-provider';
import { deriveKey } from '../crypto/secret-box.ts';

/** oidc-provider's default paths for the two endpoints that reject structured tokens. */
export const INTROSPECTION_PATH = '/token/introspection';
export const REVOCATION_PATH = '/token/revocation';
const BODY_LIMIT = 56 * 1024;

type JwtCustomizer = NonNullable<NonNullable<NonNullable<Configuration['formats']>['customizers']>['jwt']>;

interface TokenModel {
  readonly kind: string;
  readonly constructor: {
    readonly IN_PAYLOAD: readonly string[];
    readonly adapter: { upsert(id: string, payload: Record<string, unknown>, expiresIn: number): Promise<unknown> };
  };
}

/**
 * Introspection and revocation for JWT access tokens (oidc-provider refuses JWTs there).
 *
 * When a JWT access token is issued, an awaited format customizer stores a record of it
 * through the provider's own AccessToken / ClientCredentials model, under an id that is an
 * HMAC of the token's `jti` with a key derived from GATEHOUSE_SECRET. The `jti` is public
 * (it is inside the token), the record id is not: presenting a bare `jti` finds nothing.
 *
 * In front of the two endpoints, a middleware verifies a presented JWT against Gatehouse's
 * own keys and swaps it for the record id, so the library's client authentication, grant
 * checks, session binding, revocation and revokeByGrantId apply unchanged. An unverifiable
 * JWT is swapped for a random id: inactive, never an error.
 */
export function createJwtRecords({ secret }: { secret: string }) {
  const key = deriveKey(secret, 'jwt-access-token-records');
  const recordId = (jti: string) => createHmac('sha256', key).update(jti).digest('base64url');

  const customizer: JwtCustomizer = async (_ctx, token, jwt) => {
    const model = token as unknown as TokenModel & Record<string, unknown>;
    const { jti, exp, iat } = jwt.payload as { jti: string; exp: number; iat: number };
    const payload: Record<string, unknown> = {};
    for (const name of model.constructor.IN_PAYLOAD) {
      if (model[name] !== undefined) payload[name] = model[name];
    }
    Object.assign(payload, { jti: recordId(jti), kind: model.kind, iat, exp });
    const expiresIn = Math.max(1, exp - Math.floor(Date.now() / 1000));
    await model.constructor.adapter.upsert(payload.jti as string, payload, expiresIn);
  };

  function swapStructuredToken({ issuer, publicJwks }: { issuer: string; publicJwks: () => JSONWebKeySet }): Middleware {
    return async (ctx, next) => {
      if (ctx.method !== 'POST' || (ctx.path !== INTROSPECTION_PATH && ctx.path !== REVOCATION_PATH)) return next();
      if (!ctx.is('application/x-www-form-urlencoded')) return next();
      const raw = await readBody(ctx.req);
      if (raw === undefined) {
        ctx.status = 413;
        ctx.body = { error: 'invalid_request', error_description: 'request body too large' };
        return undefined;
      }
      const params = parseQuery(raw);
      const token = params.token;
      if (typeof token === 'string' && looksLikeJwt(token)) {
        params.token = await resolve(token, issuer, publicJwks());
      }
      // The request stream is consumed; the provider reads the parsed body from req.body.
      (ctx.req as typeof ctx.req & { body?: string }).body = stringifyQuery(params);
      return next();
    };
  }

  async function resolve(token: string, issuer: string, jwks: JSONWebKeySet): Promise<string> {
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer, typ: 'at+jwt' });
      if (typeof payload.jti === 'string') return recordId(payload.jti);
    } catch {
      // Not ours, altered or expired: answered as an unknown token.
    }
    return randomBytes(32).toString('base64url');
  }

  return { customizer, swapStructuredToken, recordId };
}

function looksLikeJwt(token: string): boolean {
  try {
    return decodeProtectedHeader(token) !== undefined;
  } catch {
    return false;
  }
}

async function readBody(req: NodeJS.ReadableStream): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > BODY_LIMIT) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
