import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { clientFlag, clientProperty } from './client-metadata.ts';

/**
 * Keycloak gives every client the default client scopes `profile` and `email` whatever the
 * request asks for. A first-party client with Keycloak's claims gets them in its grant too (when
 * its registered scope allows them), so userinfo answers keycloak-js's loadUserInfo() with the
 * profile as Keycloak does; the tokens' own scope stays what was asked for.
 */
const KEYCLOAK_DEFAULT_SCOPES = ['profile', 'email'];

function keycloakDefaultScopes(client: { scope?: string | undefined }): string {
  const registered = client.scope === undefined ? undefined : client.scope.split(' ');
  return ['openid', ...KEYCLOAK_DEFAULT_SCOPES.filter((scope) => registered === undefined || registered.includes(scope))].join(' ');
}

type LoadExistingGrant = NonNullable<Configuration['loadExistingGrant']>;

/**
 * Consent: a remembered grant is reused when it already covers the request (the library then
 * skips the consent prompt). First-party clients never see a consent page: their grant is
 * created or widened here to what they asked for, as the consent page would have granted it.
 */
export const loadExistingGrant: LoadExistingGrant = async (ctx: KoaContextWithOIDC) => {
  const { oidc } = ctx;
  const client = oidc.client;
  const session = oidc.session;
  if (client === undefined || session === undefined) return undefined;
  const grantId = oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
  const existing = grantId === undefined ? undefined : await oidc.provider.Grant.find(grantId);
  if (!clientFlag(client, 'first_party') || session.accountId === undefined) return existing;

  const grant = existing ?? new oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
  const before = existing === undefined ? undefined : grantedShape(existing);
  const scope = typeof oidc.params?.scope === 'string' ? oidc.params.scope : '';
  // What the consent page would grant, no more: the OpenID scopes asked for (the library has
  // checked them against the client's registered scope) here, an API's scopes only for that API
  // below (getResourceServerInfo narrowed them to what the client is allowed).
  const oidcScope = [...oidc.requestParamOIDCScopes].join(' ');
  if (oidcScope !== '') grant.addOIDCScope(oidcScope);
  if (clientProperty(client, 'token_claims') === 'keycloak' && scope.split(' ').includes('openid')) grant.addOIDCScope(keycloakDefaultScopes(client));
  const claims = oidc.params?.claims;
  if (typeof claims === 'string') {
    const parsed = JSON.parse(claims) as { id_token?: Record<string, unknown>; userinfo?: Record<string, unknown> };
    grant.addOIDCClaims([...Object.keys(parsed.id_token ?? {}), ...Object.keys(parsed.userinfo ?? {})]);
  }
  for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
    const allowed = new Set(server.scopes);
    grant.addResourceScope(indicator, scope.split(' ').filter((item) => allowed.has(item)).join(' '));
  }
  // A remembered grant that already covers the request (an authorization through an existing
  // session) is not written again: nothing in it changed — its expiry is its own, kept by every
  // save — and the save would cost a MongoDB upsert and audit a consent that granted nothing.
  if (before !== undefined && grantedShape(grant) === before) return grant;
  await grant.save();
  return grant;
};

/** What a grant gives: compared before and after the request's scopes, claims and APIs are added. */
function grantedShape(grant: { openid?: unknown; resources?: unknown; rejected?: unknown; rar?: unknown }): string {
  return JSON.stringify([grant.openid ?? null, grant.resources ?? null, grant.rejected ?? null, grant.rar ?? null]);
}
