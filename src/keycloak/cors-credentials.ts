import type { AfterResponseStep } from '../oidc/after-response.ts';

/**
 * keycloak-js sends its token requests with `credentials: 'include'`, which a browser accepts
 * only with `Access-Control-Allow-Credentials: true` next to the exact origin (Keycloak sends
 * both). After the response (src/oidc/after-response.ts) for the Keycloak layout: after the library has
 * checked the origin against the client's web origins and echoed it, the token endpoint's
 * answer (and its preflight) also allows credentials. The endpoint authenticates clients by
 * their own credentials, never by cookies, so a credentialed read reveals nothing more.
 */
export const allowCredentialedTokenRequests: AfterResponseStep = {
  routes: ['token', 'cors.token'],
  after(ctx) {
    const route = (ctx as { _matchedRouteName?: unknown })._matchedRouteName;
    if (route !== 'token' && route !== 'cors.token') return;
    const origin = ctx.get('Origin');
    if (origin !== '' && ctx.response.get('Access-Control-Allow-Origin') === origin) ctx.set('Access-Control-Allow-Credentials', 'true');
  },
};
