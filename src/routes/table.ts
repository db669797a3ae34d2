/**
 * One table of every path Gatehouse serves. The provider's `routes` option, the gates and the
 * JWT swap in front of it, the hosted pages, the CSRF cookie path, the admin API, health and
 * metrics, and every URL Gatehouse prints are derived from it; nothing else names a path.
 *
 * Paths are absolute from the host's root (they include the public URL's path, if any).
 * Provider routes are relative to `providerBase`, the issuer's path, where the provider is
 * mounted (oidc-provider builds its URLs from the issuer and the mount path).
 */

/** oidc-provider's route names (its `routes` option). */
export const PROVIDER_ROUTE_NAMES = [
  'authorization',
  'backchannel_authentication',
  'challenge',
  'code_verification',
  'credential',
  'device_authorization',
  'end_session',
  'introspection',
  'jwks',
  'pushed_authorization_request',
  'registration',
  'revocation',
  'token',
  'userinfo',
] as const;

export type ProviderRouteName = (typeof PROVIDER_ROUTE_NAMES)[number];

/** The provider's endpoints that authenticate clients (the failed-authentication gate, the previous-secret gate). */
export const CLIENT_AUTH_ROUTES: ReadonlySet<ProviderRouteName> = new Set<ProviderRouteName>(['token', 'introspection', 'revocation', 'pushed_authorization_request', 'device_authorization']);

export interface RoutesTable {
  /** The layout's name, for logs and docs: `gatehouse` or `keycloak`. */
  readonly layout: string;
  /** The issuer's path: the provider is mounted here ('' at the host's root). */
  readonly providerBase: string;
  /** oidc-provider's `routes`: paths relative to providerBase. */
  readonly provider: Readonly<Record<ProviderRouteName, string>>;
  /** Hosted pages: `<interaction>/:uid`, `/login`, `/confirm`, `/abort`; also the CSRF cookie's path. */
  readonly interaction: string;
  /** Password reset pages: `<password>/forgot`, `<password>/reset/:token`; also their CSRF cookie's path. */
  readonly password: string;
  /**
   * Upstream identity providers' callbacks: `<upstream>/:alias/callback` (the redirect URI
   * registered upstream) and `<upstream>/:alias/logged-out` (the post-logout redirect URI);
   * also the upstream legs' cookie path.
   */
  readonly upstream: string;
  /** The emailed address-confirmation link: `<email>/verify/:token`; also its CSRF cookie's path. */
  readonly email: string;
  /** The hosted pages' stylesheets: `<assets>/gatehouse.css`, `<assets>/theme.css`. */
  readonly assets: string;
  /** The admin API's base path. */
  readonly admin: string;
  /** The admin web console (its page; its assets under `<console>/assets`). */
  readonly console: string;
  /** The account page, where users manage their own account (its assets under `<account>/assets`). */
  readonly account: string;
  /** The account page's API (tokens of the built-in account client only). */
  readonly accountApi: string;
  readonly healthz: string;
  readonly readyz: string;
  readonly metrics: string;
  /** Keycloak's session-status pages that keycloak-js loads in iframes (Keycloak layout only). */
  readonly sessionStatus?: { readonly loginStatusIframe: string; readonly thirdPartyCookies: string };
  /** Keycloak's registration page, which keycloak-js's register() opens (Keycloak layout only; src/keycloak/registrations.ts). */
  readonly registrations?: string;
}

/** oidc-provider's default routes: Gatehouse's own layout. */
const GATEHOUSE_PROVIDER_ROUTES: Record<ProviderRouteName, string> = {
  authorization: '/auth',
  backchannel_authentication: '/backchannel',
  challenge: '/challenge',
  code_verification: '/device',
  credential: '/credential',
  device_authorization: '/device/auth',
  end_session: '/session/end',
  introspection: '/token/introspection',
  jwks: '/jwks',
  pushed_authorization_request: '/request',
  registration: '/reg',
  revocation: '/token/revocation',
  token: '/token',
  userinfo: '/me',
};

/** Keycloak's paths under /realms/<name> (Keycloak 17+, no /auth prefix). */
const OIDC = '/protocol/openid-connect';
const KEYCLOAK_PROVIDER_ROUTES: Record<ProviderRouteName, string> = {
  authorization: `${OIDC}/auth`,
  backchannel_authentication: `${OIDC}/ext/ciba/auth`,
  challenge: `${OIDC}/ext/challenge`,
  code_verification: '/device',
  credential: `${OIDC}/ext/credential`,
  device_authorization: `${OIDC}/auth/device`,
  end_session: `${OIDC}/logout`,
  introspection: `${OIDC}/token/introspect`,
  jwks: `${OIDC}/certs`,
  pushed_authorization_request: `${OIDC}/ext/par/request`,
  registration: '/clients-registrations/openid-connect',
  revocation: `${OIDC}/revoke`,
  token: `${OIDC}/token`,
  userinfo: `${OIDC}/userinfo`,
};

/** A realm name Keycloak would accept in a URL path segment. */
export const REALM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function basePathOf(publicUrl: string): string {
  return new URL(publicUrl).pathname.replace(/\/+$/, '');
}

/** Paths Gatehouse serves outside the provider, under the public URL's path. */
function ownPaths(base: string): Omit<RoutesTable, 'layout' | 'providerBase' | 'provider' | 'sessionStatus' | 'registrations'> {
  return {
    interaction: `${base}/interaction`,
    password: `${base}/password`,
    upstream: `${base}/upstream`,
    email: `${base}/email`,
    assets: `${base}/assets`,
    admin: `${base}/admin/api/v1`,
    console: `${base}/console`,
    account: `${base}/account`,
    accountApi: `${base}/account/api/v1`,
    healthz: `${base}/healthz`,
    readyz: `${base}/readyz`,
    metrics: `${base}/metrics`,
  };
}

/** Gatehouse's layout: the issuer is the public URL; oidc-provider's default paths. */
export function gatehouseRoutes(publicUrl: string): RoutesTable {
  const base = basePathOf(publicUrl);
  return { layout: 'gatehouse', providerBase: base, provider: GATEHOUSE_PROVIDER_ROUTES, ...ownPaths(base) };
}

/**
 * Keycloak's layout: the issuer is `<public URL>/realms/<realm>` with Keycloak's endpoint paths;
 * hosted pages, admin API, health and metrics stay where Gatehouse's layout has them.
 */
export function keycloakRoutes(publicUrl: string, realm: string): RoutesTable {
  if (!REALM_NAME.test(realm)) throw new TypeError(`invalid realm name ${JSON.stringify(realm)}`);
  const base = basePathOf(publicUrl);
  const providerBase = `${base}/realms/${realm}`;
  return {
    layout: 'keycloak',
    providerBase,
    provider: KEYCLOAK_PROVIDER_ROUTES,
    ...ownPaths(base),
    // Where Keycloak has its Account Console: /realms/<name>/account.
    account: `${providerBase}/account`,
    accountApi: `${providerBase}/account/api/v1`,
    sessionStatus: {
      loginStatusIframe: `${providerBase}${OIDC}/login-status-iframe.html`,
      thirdPartyCookies: `${providerBase}${OIDC}/3p-cookies`,
    },
    registrations: `${providerBase}${OIDC}/registrations`,
  };
}

/** The issuer a table serves: the public URL's origin and the provider's mount path. */
export function issuerOf(publicUrl: string, table: RoutesTable): string {
  return `${new URL(publicUrl).origin}${table.providerBase}`;
}

/** Absolute path of a provider endpoint. */
export function endpointPath(table: RoutesTable, name: ProviderRouteName): string {
  return `${table.providerBase}${table.provider[name]}`;
}

/** Absolute path of the OpenID discovery document. */
export function discoveryPath(table: RoutesTable): string {
  return `${table.providerBase}/.well-known/openid-configuration`;
}

/** A hosted page's path for an interaction. */
export function interactionPath(table: RoutesTable, uid: string): string {
  return `${table.interaction}/${encodeURIComponent(uid)}`;
}

/** The redirect URI to register at an upstream identity provider. */
export function upstreamCallbackPath(table: RoutesTable, alias: string): string {
  return `${table.upstream}/${encodeURIComponent(alias)}/callback`;
}

/** The post-logout redirect URI to register at an upstream identity provider (upstream logout comes back here). */
export function upstreamLogoutCallbackPath(table: RoutesTable, alias: string): string {
  return `${table.upstream}/${encodeURIComponent(alias)}/logged-out`;
}

/** Where the account page's "Connect <provider>" starts the upstream leg (with a one-time ticket). */
export function upstreamLinkPath(table: RoutesTable, alias: string): string {
  return `${table.upstream}/${encodeURIComponent(alias)}/link`;
}
