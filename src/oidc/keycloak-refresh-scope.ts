import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { clientProperty } from './client-metadata.ts';
import type { GrantHandler, WrapGrant } from './provider.ts';

/** How the library's refresh grant words the one refusal this follows Keycloak for (lib/actions/grants/refresh_token.js). */
const MISSING_SCOPE = /^refresh token missing requested scopes?$/;

/**
 * A refresh naming a scope the refresh token does not hold. The library answers invalid_scope (RFC
 * 6749 §6: the scope must not include any not originally granted); Keycloak 26 leaves such a scope
 * out (RefreshTokenGrantType: the token's scopes narrowed to those the request names), adds the
 * client's default client scopes (TokenManager.getRequestedClientScopes) and keeps openid when the
 * refresh token held it (DefaultClientSessionContext.isOIDCRequest). A client with Keycloak's claims
 * (`token_claims: keycloak`, set on every client a Keycloak import creates) gets Keycloak's answer:
 * the library's refresh grant is wrapped, and when it refuses for that reason — before anything is
 * rotated or consumed, the refusal's `scope` naming the missing scopes — it runs again without them.
 * None left: as Keycloak, the client's default scopes and openid — run again with `openid` alone,
 * which the refresh hook widens with the default scopes the token holds (src/oidc/default-scopes.ts
 * defaultScopesAtRefresh); a token without openid (a plain OAuth 2.0 one) gets its own scopes. Other
 * clients, and every other refusal, answer as the library does. Costs nothing on other refreshes.
 */
export function keycloakRefreshScope(): WrapGrant {
  return (name, handler) => (name === 'refresh_token' ? leaveOutMissingScopes(handler) : handler);
}

function leaveOutMissingScopes(handler: GrantHandler): GrantHandler {
  return async (ctx) => {
    const missing = await refusedScopes(handler, ctx);
    if (missing === undefined) return;
    const params = (ctx as unknown as KoaContextWithOIDC).oidc.params as { scope?: string | undefined };
    const kept = (params.scope ?? '').split(' ').filter((scope) => scope !== '' && !missing.has(scope));
    if (kept.length > 0) {
      params.scope = kept.join(' ');
      await handler(ctx);
      return;
    }
    params.scope = 'openid';
    if ((await refusedScopes(handler, ctx)) === undefined) return;
    params.scope = undefined;
    await handler(ctx);
  };
}

/** Runs the grant: undefined when it answered, else the scopes it refused for lacking them (any other refusal is thrown). */
async function refusedScopes(handler: GrantHandler, ctx: Parameters<GrantHandler>[0]): Promise<Set<string> | undefined> {
  try {
    await handler(ctx);
    return undefined;
  } catch (error) {
    const context = ctx as unknown as KoaContextWithOIDC;
    if (!(error instanceof errors.InvalidScope) || !MISSING_SCOPE.test(error.error_description ?? '') || clientProperty(context.oidc.client, 'token_claims') !== 'keycloak') throw error;
    return new Set(String((error as { scope?: unknown }).scope ?? '').split(' '));
  }
}
