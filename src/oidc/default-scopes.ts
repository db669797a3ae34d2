import type { KoaContextWithOIDC } from 'oidc-provider';
import { ASKED_ONLY_SCOPES } from '../clients/asked-only-scopes.ts';
import { scopeWords } from '../claims/mapped-claims.ts';
import { clientFlag, clientProperty } from './client-metadata.ts';

/**
 * Keycloak's default client scopes: a client's `default_scopes` are added to what each of its
 * requests asks for, named or not, so its grant, consent page, ID token, userinfo, access token
 * `scope`, introspection and refresh tokens carry them as if asked for. Optional client scopes
 * are the rest of its `scope`: given only when asked for.
 */

/**
 * A first-party client with Keycloak's claims that has no `default_scopes` of its own (made
 * before the field existed, or by hand as README's keycloak-js example does) keeps Keycloak's
 * built-in defaults, as it always had them: keycloak-js asks for `openid` alone and reads the
 * profile from userinfo.
 */
const KEYCLOAK_BUILT_IN_DEFAULTS: readonly string[] = ['profile', 'email'];

/**
 * The scopes `client` gets unasked: its `default_scopes` that it may still ask for (its registered
 * `scope`, when set) and that the provider knows (a claim scope deleted since is skipped).
 */
export function defaultScopesOf(client: object, isOpenIdScope: (scope: string) => boolean): string[] {
  const own = clientProperty(client, 'default_scopes');
  const wanted = Array.isArray(own) ? own : clientFlag(client, 'first_party') && clientProperty(client, 'token_claims') === 'keycloak' ? KEYCLOAK_BUILT_IN_DEFAULTS : [];
  if (wanted.length === 0) return [];
  const registered = (client as { scope?: unknown }).scope;
  const allowed = typeof registered === 'string' ? new Set(scopeWords(registered)) : undefined;
  return wanted.filter(
    (scope): scope is string => typeof scope === 'string' && !ASKED_ONLY_SCOPES.includes(scope) && isOpenIdScope(scope) && (allowed === undefined || allowed.has(scope)),
  );
}

/** `scope` with `defaults` added after what it asks for, each once; undefined stays undefined when nothing is added. */
export function withDefaultScopes(scope: unknown, defaults: readonly string[]): string | undefined {
  const asked = scopeWords(scope);
  const added = defaults.filter((item) => !asked.includes(item));
  if (added.length === 0) return typeof scope === 'string' && scope !== '' ? scope : undefined;
  return [...asked, ...added].join(' ');
}

/**
 * The authorization endpoints' part (authorization, pushed authorization requests, device
 * authorization): the request's `scope` is widened with the client's default scopes, once the
 * library has checked the scopes the client sent (an `extraParams` validator, which the library
 * runs on every such request after its own checks; README "Claims"). Everything after reads the
 * widened scope: the consent prompt and the user's consent record, the grant, the code or device
 * code and so the tokens. A pushed request is stored widened; /auth with its `request_uri` widens
 * again, which changes nothing.
 */
export function defaultScopesAtAuthorization(isOpenIdScope: (scope: string) => boolean): (ctx: KoaContextWithOIDC) => void {
  return (ctx) => {
    const { client, params } = ctx.oidc;
    if (client === undefined || params === undefined) return;
    const defaults = defaultScopesOf(client, isOpenIdScope);
    if (defaults.length === 0) return;
    params.scope = withDefaultScopes(params.scope, defaults);
  };
}

/**
 * The refresh grant's part. Keycloak keeps a client's default scopes at a refresh whatever its
 * `scope` parameter names: it narrows the refresh token's scope to the parameter, then adds the
 * client's default client scopes back (TokenManager.refreshAccessToken). The library gives a
 * refresh that names a `scope` only what it names, so that `scope` is widened here with the
 * client's default scopes — those the presented refresh token holds. One the client gained after
 * the token was issued is in neither the token nor its grant (nor the user's consent): naming it
 * would make the library refuse the refresh (invalid_scope), so it is left out, and the token
 * refreshes as before. A refresh that names no `scope` already gets all the token holds.
 *
 * `openid` too, for a client with Keycloak's claims (`token_claims: keycloak`, as every client a
 * Keycloak import creates; src/oidc/keycloak-refresh-scope.ts follows Keycloak's refresh for them
 * likewise): Keycloak 26 keeps openid, and issues an ID token, at every refresh of a sign-in that
 * asked for it, whatever the refresh names (DefaultClientSessionContext.getScopeString, and
 * TokenManager.refreshAccessToken reading the client session's scope). The library drops it when
 * the `scope` named leaves it out, as RFC 6749 §6 allows; other clients keep that. A token without
 * openid (an OAuth-only sign-in) gets none.
 *
 * Runs in the library's `rotateRefreshToken` hook (configuration.ts): the one call out of its
 * refresh grant after it has found the presented token (the storage's one read; its record is
 * `entities.RefreshToken`) and checked the named scopes against it, and before it reads `scope`
 * for the new access and ID tokens. It reads nothing itself.
 */
export function defaultScopesAtRefresh(isOpenIdScope: (scope: string) => boolean): (ctx: KoaContextWithOIDC) => void {
  return (ctx) => {
    const { client, params, entities } = ctx.oidc;
    const held = entities.RefreshToken?.scopes;
    if (client === undefined || params === undefined || held === undefined || typeof params.scope !== 'string' || params.scope === '') return;
    const openid = held.has('openid') && clientProperty(client, 'token_claims') === 'keycloak' ? ['openid'] : [];
    const defaults = [...openid, ...defaultScopesOf(client, isOpenIdScope).filter((scope) => held.has(scope))];
    if (defaults.length === 0) return;
    params.scope = withDefaultScopes(params.scope, defaults);
  };
}
