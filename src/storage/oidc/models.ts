/**
 * The oidc-provider models Gatehouse stores and where each lives (docs/STORAGE.md).
 * PreAuthorizedCode is not enabled today; it is listed so the adapters can hold it if it is.
 */
export const OIDC_MODELS = [
  'Grant',
  'Session',
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'ClientCredentials',
  'Client',
  'InitialAccessToken',
  'RegistrationAccessToken',
  'DeviceCode',
  'Interaction',
  'ReplayDetection',
  'PushedAuthorizationRequest',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
] as const;

export type OidcModel = (typeof OIDC_MODELS)[number];

/** Seconds-to-minutes lifetimes on the hot path: Redis when configured, MongoDB otherwise. */
export const SHORT_LIVED_MODELS: ReadonlySet<string> = new Set([
  'AuthorizationCode',
  'Interaction',
  'PushedAuthorizationRequest',
  'ReplayDetection',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'AccessToken',
  'ClientCredentials',
  'PreAuthorizedCode',
]);

/** Models whose payload carries a grantId and that revokeByGrantId must remove. */
export const GRANT_MEMBER_MODELS: readonly string[] = [
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
];

/** Stored with a copy keyed by its uid (mongo-documents.ts, uidCopyOf). */
export const SESSION = 'Session';

/**
 * The `kind` of a client_credentials JWT's revocation tombstone, stored in the ClientCredentials
 * model (src/oidc/jwt-records.ts). Its creation is announced to every instance: they may hold
 * its absence (record-cache.ts).
 */
export const JWT_REVOCATION_KIND = 'JwtRevocation';

/** The one model whose reuse window applies (see reuse-window.ts). */
export const REFRESH_TOKEN = 'RefreshToken';

export function isKnownModel(name: string): name is OidcModel {
  return (OIDC_MODELS as readonly string[]).includes(name);
}

/** "PushedAuthorizationRequest" → "oidc_pushed_authorization_request". */
export function collectionName(model: string): string {
  return `oidc_${model.replace(/(?<!^)([A-Z])/g, '_$1').toLowerCase()}`;
}
