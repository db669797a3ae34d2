import type { AdapterFactory, Configuration } from 'oidc-provider';
import type { ApiRegistry } from '../apis/registry.ts';
import type { PrivateJwk } from '../keys/generate.ts';
import { findAccount, type AccountDirectory } from './accounts.ts';
import { SCOPE_CLAIMS, OIDC_SCOPES } from './claims.ts';
import { clientFlag, clientList, GATEHOUSE_CLIENT_PROPERTIES, validateClientProperty } from './client-metadata.ts';
import { loadExistingGrant } from './grant-policy.ts';
import { introspectionAllowedPolicy } from './introspection-policy.ts';
import { extraTokenClaims, resourceIndicators } from './resource-servers.ts';

export interface TokenLifetimes {
  readonly accessToken: number;
  readonly authorizationCode: number;
  readonly idToken: number;
  readonly refreshToken: number;
  readonly session: number;
  readonly deviceCode: number;
  readonly interaction: number;
}

export interface ProviderSettings {
  /** Private signing keys, in signing preference order (see providerJwks). */
  readonly jwks: readonly PrivateJwk[];
  /** Cookie keys shared with the Koa app: the first signs, the rest verify. */
  readonly cookieKeys: readonly string[];
  readonly lifetimes: TokenLifetimes;
  /** PKCE for every client, not only public ones. */
  readonly requirePkce: boolean;
  /** Dynamic client registration (RFC 7591/7592) behind initial access tokens. */
  readonly registration: boolean;
  /** The admin API's identifier: only admin clients may target it. */
  readonly adminAudience: string;
  /** Served over HTTPS: cookies become SameSite=None; Secure (POST /auth from other sites works). */
  readonly https: boolean;
  /** 32 bytes shared by all instances so DPoP nonces verify everywhere. */
  readonly dpopNonceSecret: Buffer;
  /** Storage for every oidc-provider model (src/oidc/storage.ts). */
  readonly adapter: AdapterFactory;
  readonly accounts: AccountDirectory;
  readonly apis: ApiRegistry;
  readonly jwtCustomizer: NonNullable<NonNullable<Configuration['formats']>['customizers']>['jwt'];
  readonly interactionUrl: (uid: string) => string;
  readonly renderError?: Configuration['renderError'];
}

/** The oidc-provider configuration; each concern lives in its own module and is composed here. */
export function providerConfiguration(settings: ProviderSettings): Configuration {
  const { lifetimes, accounts, apis } = settings;
  const sameSite = settings.https ? 'none' : 'lax';
  return {
    adapter: settings.adapter,
    jwks: { keys: settings.jwks.map((key) => ({ ...key })) },
    cookies: {
      keys: [...settings.cookieKeys],
      long: { httpOnly: true, sameSite },
      short: { httpOnly: true, sameSite },
    },
    findAccount: findAccount(accounts),
    claims: Object.fromEntries(Object.entries(SCOPE_CLAIMS).map(([scope, claims]) => [scope, [...claims]])),
    scopes: [...OIDC_SCOPES],
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    extraClientMetadata: { properties: [...GATEHOUSE_CLIENT_PROPERTIES], validator: validateClientProperty },
    clientBasedCORS: (_ctx, origin, client) => clientList(client, 'web_origins').includes(origin),
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256'],
      userinfoSigningAlgValues: ['RS256', 'ES256'],
      introspectionSigningAlgValues: ['RS256', 'ES256'],
      authorizationSigningAlgValues: ['RS256', 'ES256'],
      requestObjectSigningAlgValues: ['RS256', 'ES256', 'PS256', 'EdDSA'],
      clientAuthSigningAlgValues: ['RS256', 'ES256', 'PS256', 'EdDSA'],
      dPoPSigningAlgValues: ['ES256', 'RS256', 'PS256', 'EdDSA'],
    },
    pkce: {
      required: (_ctx, client) => settings.requirePkce || client.clientAuthMethod === 'none' || clientFlag(client, 'require_pkce'),
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true },
      introspection: { enabled: true, allowedPolicy: introspectionAllowedPolicy(apis, accounts) },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      backchannelLogout: { enabled: true },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      dPoP: { enabled: true, nonceSecret: settings.dpopNonceSecret },
      resourceIndicators: resourceIndicators(apis, settings.adminAudience),
      registration: { enabled: settings.registration, initialAccessToken: true, issueRegistrationAccessToken: true },
      registrationManagement: { enabled: settings.registration, rotateRegistrationAccessToken: true },
    },
    extraTokenClaims: extraTokenClaims(apis, accounts),
    formats: { customizers: { jwt: settings.jwtCustomizer } },
    // Keycloak-like refresh tokens: issued to every client allowed the grant, always rotated.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    loadExistingGrant,
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? lifetimes.accessToken,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? lifetimes.accessToken,
      AuthorizationCode: lifetimes.authorizationCode,
      IdToken: lifetimes.idToken,
      RefreshToken: lifetimes.refreshToken,
      Session: lifetimes.session,
      // A grant outlives every refresh token issued under it, so refreshing never stops early.
      Grant: Math.max(lifetimes.refreshToken, lifetimes.session),
      DeviceCode: lifetimes.deviceCode,
      BackchannelAuthenticationRequest: lifetimes.deviceCode,
      Interaction: lifetimes.interaction,
    },
    interactions: { url: (_ctx, interaction) => settings.interactionUrl(interaction.uid) },
    ...(settings.renderError === undefined ? {} : { renderError: settings.renderError }),
  };
}
