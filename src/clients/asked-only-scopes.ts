/**
 * Scopes never added to a request unasked (a client's `default_scopes` cannot hold them).
 * `openid` decides whether a request is OpenID Connect at all (an ID token), which Keycloak
 * leaves to the request too ("Request is missing scope 'openid' so it's not treated as OIDC");
 * `offline_access` would make every refresh token outlive the session, which Keycloak gives only
 * to a request whose own `scope` names it.
 *
 * Its own module, free of imports: the CLI's database-only commands validate clients with it and
 * must not load oidc-provider (test/integration/cli-start-loads.test.ts).
 */
export const ASKED_ONLY_SCOPES: readonly string[] = ['openid', 'offline_access'];
