import { createHmac } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AccountDirectory } from './accounts.ts';
import { presentedJwtId } from './jwt-records.ts';
import type { AfterResponseStep } from './after-response.ts';

interface IntrospectionBody {
  active?: boolean;
  sub?: string;
  jti?: string;
  username?: string;
  client_id?: string;
}

const INTROSPECTED = ['AccessToken', 'ClientCredentials', 'RefreshToken'] as const;

/**
 * After the response (src/oidc/after-response.ts), at introspection: an active introspection answer also says who the token
 * speaks for (RFC 7662 §2.2), as Keycloak's does, so resource servers that introspect can tell
 * who is calling:
 * - `sub`: the user for user tokens (the library sets it); the client for client_credentials
 *   tokens, which act for the client itself;
 * - `jti`: the JWT's own `jti` for JWT access tokens (the library only knows the record id the
 *   JWT was swapped for). An opaque token's only id is the token itself, which is not echoed
 *   back (resource servers log `jti`); it gets a keyed hash of itself instead: stable, unique,
 *   and useless as a credential;
 * - `username`: the user's username, for user tokens.
 */
export function introspectionClaims(accounts: AccountDirectory, tokenIdKey: Buffer): AfterResponseStep {
  const opaqueId = (value: string) => createHmac('sha256', tokenIdKey).update(value).digest('base64url');
  return { routes: ['introspection'], after: addIntrospectionClaims };
  /** Synchronous unless the token is a user's: only the username needs a read (no promise for a client_credentials token). */
  function addIntrospectionClaims(ctx: KoaContextWithOIDC): void | Promise<void> {
    const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
    if (oidc?.route !== 'introspection') return;
    const body = ctx.body as IntrospectionBody | undefined;
    if (body === undefined || body === null || typeof body !== 'object' || body.active !== true) return;
    const token = INTROSPECTED.map((kind) => oidc.entities[kind]).find((entity) => entity !== undefined) as
      | { kind: string; jti: string; accountId?: string; clientId?: string }
      | undefined;
    if (token === undefined) return;
    if (body.sub === undefined && token.kind === 'ClientCredentials' && typeof token.clientId === 'string') body.sub = token.clientId;
    if (body.jti === undefined) {
      body.jti = presentedJwtId(ctx.req) ?? opaqueId(token.jti);
    }
    if (typeof token.accountId === 'string') return addUsername(body, token.accountId);
  }
  async function addUsername(body: IntrospectionBody, accountId: string): Promise<void> {
    const username = (await accounts.findActive(accountId))?.claims.preferred_username;
    if (typeof username === 'string') body.username = username;
  }
}
