import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { clientProperty } from './client-metadata.ts';
import type { GrantHandler, WrapGrant } from './provider.ts';

/** How the library's refresh grant words the one refusal this follows Keycloak for (lib/actions/grants/refresh_token.js). */
const MISSING_SCOPE = /^refresh token missing requested scopes?$/;

/**
 * A refresh naming a scope the refresh token does not hold. The library answers invalid_scope (RFC
 * 6749 §6: the scope must not include any not originally granted); Keycloak 26 leaves such a scope
 * out and answers with the token's scopes that the request names (AbstractRefreshTokenProvider).
 * A client with Keycloak's claims (`token_claims: keycloak`, set on every client a Keycloak import
 * creates) gets Keycloak's answer: the library's refresh grant is wrapped, and when it refuses for
 * that reason — before anything is rotated or consumed, the refusal's `scope` naming the missing
 * scopes — it runs again without them (none left: as without a scope, the token's own). Other
 * clients, and every other refusal, answer as the library does. Costs nothing on other refreshes.
 */
export function keycloakRefreshScope(): WrapGrant {
  return (name, handler) => (name === 'refresh_token' ? leaveOutMissingScopes(handler) : handler);
}

function leaveOutMissingScopes(handler: GrantHandler): GrantHandler {
  return async (ctx) => {
    try {
      await handler(ctx);
    } catch (error) {
      const context = ctx as unknown as KoaContextWithOIDC;
      if (!(error instanceof errors.InvalidScope) || !MISSING_SCOPE.test(error.error_description ?? '') || clientProperty(context.oidc.client, 'token_claims') !== 'keycloak') throw error;
      const missing = new Set(String((error as { scope?: unknown }).scope ?? '').split(' '));
      const params = context.oidc.params as { scope?: string | undefined };
      const kept = (params.scope ?? '').split(' ').filter((scope) => scope !== '' && !missing.has(scope));
      params.scope = kept.length > 0 ? kept.join(' ') : undefined;
      await handler(ctx);
    }
  };
}
