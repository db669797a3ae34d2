/**
 * Gatehouse's own client metadata, carried by every client record next to the standard fields
 * (oidc-provider's extraClientMetadata), each with who may set it: `operator` only (admin API,
 * CLI, import), or a client registering itself (RFC 7591/7592) too (`registration`). One table,
 * so that a new property cannot be added without deciding which: the registration policy
 * (src/oidc/client-metadata.ts) refuses the operator's, and a registered client's record keeps
 * them (src/clients/repository.ts).
 */
const WHO_SETS = {
  /** Consent is skipped (an in-house app). */
  first_party: 'operator',
  /** API identifiers this client may request tokens for. */
  allowed_apis: 'operator',
  /**
   * Optional per-API scope limits: [{ "api": "<API identifier>", "scopes": ["read"] }]; an API
   * not listed allows all its scopes. (A list, not a map: API identifiers contain dots, which
   * MongoDB-wire servers refuse as keys.)
   */
  allowed_api_scopes: 'operator',
  /** The API used when a request names none: always for client_credentials. */
  default_api: 'operator',
  /** Code flow without `resource` also gets the default API's JWT (then userinfo needs another token). */
  login_uses_default_api: 'operator',
  /** Browser origins allowed to call the token, userinfo, introspection and revocation endpoints (SPAs). */
  web_origins: 'operator',
  /** Require PKCE even though the client is confidential. */
  require_pkce: 'registration',
  /** Every sign-in to this client needs a second factor (users without one enrol first). */
  require_mfa: 'registration',
  /** Keep profile claims out of the ID token (they stay available at userinfo). */
  minimal_id_token: 'registration',
  /** May use the admin API (client_credentials for the admin API audience). */
  admin_client: 'operator',
  /** May use the resource-owner password grant (confidential first-party clients only; src/oidc/grants/password.ts): it sees users' passwords. */
  allow_password_grant: 'operator',
  /**
   * Token exchange (RFC 8693) policy: { "apis": [API identifiers it may ask tokens for],
   * "trusted_clients": [client ids whose users' access tokens it may exchange] }: it trades
   * other clients' user tokens, the operator's trust.
   */
  token_exchange: 'operator',
  /**
   * Keycloak's default client scopes: OpenID scopes (claim scopes among them) added to every
   * authorization and password-grant request of the client, named or not, and kept at a refresh
   * that names a narrower scope when the refresh token holds them (src/oidc/default-scopes.ts).
   */
  default_scopes: 'operator',
  /** `keycloak`: the client's access and ID tokens carry Keycloak's claims (src/oidc/keycloak-claims.ts), the user's roles and groups among them. */
  token_claims: 'operator',
  /**
   * The roles of the client's service account (Keycloak's service-account user's role mappings):
   * its client_credentials tokens carry them as a user's tokens carry the user's roles
   * (src/oidc/resource-servers.ts). Never `admin`.
   */
  service_account_roles: 'operator',
} as const satisfies Record<string, 'operator' | 'registration'>;

export type GatehouseClientProperty = keyof typeof WHO_SETS;

export const GATEHOUSE_CLIENT_PROPERTIES = Object.keys(WHO_SETS) as readonly GatehouseClientProperty[];

/** The properties a client registering itself can never grant itself. */
export const OPERATOR_ONLY_CLIENT_PROPERTIES: readonly GatehouseClientProperty[] = GATEHOUSE_CLIENT_PROPERTIES.filter((property) => WHO_SETS[property] === 'operator');
