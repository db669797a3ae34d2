import type { AdapterFactory, Configuration, interactionPolicy, KoaContextWithOIDC } from 'oidc-provider';
import type { ApiRegistry } from '../apis/registry.ts';
import type { Config } from '../config/load.ts';
import type { PrivateJwk } from '../keys/generate.ts';
import { USERINFO_SIGNING_ALGS } from '../clients/spec.ts';
import { findAccount, type AccountDirectory } from './accounts.ts';
import { ACR_VALUES, assertReachableAcr } from './acr.ts';
import { SCOPE_CLAIMS, OIDC_SCOPES, openIdScopeTest } from './claims.ts';
import { KEYCLOAK_ID_TOKEN_CLAIMS } from './keycloak-claims.ts';
import { GATEHOUSE_CLIENT_PROPERTIES } from '../clients/gatehouse-properties.ts';
import { clientFlag, clientList, validateClientProperty } from './client-metadata.ts';
import { grantPolicy, type ConsentLookup } from './grant-policy.ts';
import { offlineAccessForFirstParty } from './offline-access.ts';
import { defaultScopesAtAuthorization, defaultScopesAtRefresh } from './default-scopes.ts';
import { audienceMatchesResource } from './audience-parameter.ts';
import { gatehouseInteractionPolicy } from './interaction-policy.ts';
import { introspectionAllowedPolicy } from './introspection-policy.ts';
import { extraTokenClaims, resourceIndicators, withMappedClaims } from './resource-servers.ts';
import { claimMapping } from '../claims/mapped-claims.ts';
import { introspectionWithoutAccessOnly, jwtWithoutIntrospectionOnly } from '../claims/shown-claims.ts';
import type { ClaimScope } from '../claims/spec.ts';
import { withActClaim } from './grants/exchange-link.ts';
import type { ProviderRouteName } from '../routes/table.ts';

export type TokenLifetimes = Config['lifetimes'];

export interface ProviderSettings {
  /** Private signing keys, in signing preference order (see providerJwks). */
  readonly jwks: readonly PrivateJwk[];
  /** Cookie keys shared with the Koa app: the first signs, the rest verify. */
  readonly cookieKeys: readonly string[];
  readonly lifetimes: TokenLifetimes;
  /** PKCE for every client, not only public ones. */
  readonly requirePkce: boolean;
  /**
   * The library refuses outgoing requests to loopback and private addresses (SSRF protection,
   * through its own fetch dispatcher). Deployments whose apps take back-channel logout on an
   * internal network turn this on; back-channel logout requests then go out without that
   * dispatcher (every other outgoing request keeps it).
   */
  readonly allowPrivateNetworkFetch?: boolean;
  /**
   * The deadline of each back-channel logout request (src/oidc/session-logout.ts
   * `logoutDeadlines`: 2.5 s on Gatehouse's clock), in place of the library's wall-clock one.
   */
  readonly logoutDeadline?: (() => { readonly signal: AbortSignal; cancel(): void }) | undefined;
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
  /** The claim scopes in force (src/claims/claim-scopes.ts), read once per build: the provider is rebuilt when they change. */
  readonly claimScopes?: (() => readonly ClaimScope[]) | undefined;
  /** Users' consents kept across sign-in sessions (src/consents/records.ts); without them consent lasts as long as the session's grant. */
  readonly consents?: ConsentLookup | undefined;
  readonly jwtCustomizer: NonNullable<NonNullable<Configuration['formats']>['customizers']>['jwt'];
  /** Runs once a revocation is allowed, before the library destroys the token (src/oidc/jwt-records.ts leaves its tombstone here). */
  readonly beforeRevocation?: ((ctx: KoaContextWithOIDC, token: { readonly kind: string; readonly jti: string; readonly exp?: number | undefined }) => Promise<void>) | undefined;
  readonly interactionUrl: (uid: string) => string;
  /** Custom prompts of the sign-in steps (src/interactions/steps), asked between login and consent. */
  readonly prompts?: readonly (() => interactionPolicy.Prompt)[] | undefined;
  /** Endpoint paths relative to the issuer (the routes table); the library's defaults when absent. */
  readonly routes?: Readonly<Record<ProviderRouteName, string>> | undefined;
  /** Hosted pages the library renders itself: errors, sign-out, device flow (src/interactions/provider-pages.ts). */
  readonly pages?: ProviderPageHooks | undefined;
}

type Features = NonNullable<Configuration['features']>;
type DeviceFlowFeature = NonNullable<Features['deviceFlow']>;
type LogoutFeature = NonNullable<Features['rpInitiatedLogout']>;

export interface ProviderPageHooks {
  readonly renderError: NonNullable<Configuration['renderError']>;
  readonly logoutSource: NonNullable<LogoutFeature['logoutSource']>;
  readonly postLogoutSuccessSource: NonNullable<LogoutFeature['postLogoutSuccessSource']>;
  readonly userCodeInputSource: NonNullable<DeviceFlowFeature['userCodeInputSource']>;
  readonly userCodeConfirmSource: NonNullable<DeviceFlowFeature['userCodeConfirmSource']>;
  readonly successSource: NonNullable<DeviceFlowFeature['successSource']>;
}

/** Metadata a client record leaves out; the benchmark's reference server uses the same. */
export const CLIENT_DEFAULTS: NonNullable<Configuration['clientDefaults']> = {
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: 'RS256',
};

/**
 * Back-channel logout is the only outgoing request allowed to reach private addresses when the
 * operator opts in; a client's jwks_uri (which a self-registered client chooses) never is.
 */
function isBackchannelLogout(init: RequestInit | undefined): boolean {
  return init?.method === 'POST' && String(init.body ?? '').startsWith('logout_token=');
}

/**
 * The library's outgoing requests (its `fetch` option), changed for back-channel logout only: the
 * deadline on Gatehouse's clock, and without the library's SSRF dispatcher when the operator
 * allows private networks. Every other request goes out as the library sends it.
 */
function outgoingFetch({ allowPrivateNetworkFetch = false, logoutDeadline }: Pick<ProviderSettings, 'allowPrivateNetworkFetch' | 'logoutDeadline'>): Pick<Configuration, 'fetch'> {
  if (!allowPrivateNetworkFetch && logoutDeadline === undefined) return {};
  return {
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      if (!isBackchannelLogout(init)) return fetch(input, init);
      const deadline = logoutDeadline?.();
      try {
        return await fetch(input, {
          ...init,
          ...(allowPrivateNetworkFetch ? { dispatcher: undefined } : {}),
          ...(deadline === undefined ? {} : { signal: deadline.signal }),
        } as RequestInit);
      } finally {
        deadline?.cancel();
      }
    },
  };
}

/** The oidc-provider configuration; each concern lives in its own module and is composed here. */
export function providerConfiguration(settings: ProviderSettings): Configuration {
  const { lifetimes, accounts, apis, pages } = settings;
  const sameSite = settings.https ? 'none' : 'lax';
  const policy = gatehouseInteractionPolicy(settings.prompts);
  const mapping = claimMapping(settings.claimScopes?.() ?? []);
  const addDefaultScopes = defaultScopesAtAuthorization(openIdScopeTest(mapping));
  const keepDefaultScopes = defaultScopesAtRefresh(openIdScopeTest(mapping));
  return {
    adapter: settings.adapter,
    ...(settings.routes === undefined ? {} : { routes: { ...settings.routes } }),
    jwks: { keys: settings.jwks.map((key) => ({ ...key })) },
    cookies: {
      keys: [...settings.cookieKeys],
      long: { httpOnly: true, sameSite },
      short: { httpOnly: true, sameSite },
    },
    // POST to /auth and /session/end needs cross-site cookies (SameSite=None), which need HTTPS.
    enableHttpPostMethods: settings.https,
    ...outgoingFetch(settings),
    findAccount: findAccount(accounts, mapping),
    // `acr` (and `amr` when the sign-in reports one) ride on the openid scope so every ID token
    // carries them (as Keycloak's do), not only when acr_values asks for it; userinfo never has
    // them (findAccount does not supply them).
    // azp, realm_access and resource_access likewise, for clients with Keycloak claims (findAccount
    // supplies them to those clients' ID tokens only).
    claims: {
      ...Object.fromEntries(Object.entries(SCOPE_CLAIMS).map(([scope, claims]) => [scope, [...claims]])),
      openid: [...SCOPE_CLAIMS.openid, 'acr', 'amr', ...KEYCLOAK_ID_TOKEN_CLAIMS],
      // Claim scopes (src/claims/): operator-defined, each releasing its mappers' claims.
      ...Object.fromEntries(Object.entries(mapping.scopeClaims).map(([scope, claims]) => [scope, [...claims]])),
    },
    scopes: [...OIDC_SCOPES, ...mapping.scopeNames],
    acrValues: [...ACR_VALUES],
    // Scope claims also go into the ID token, as Keycloak, Google and Auth0 do (apps such as the
    // Kubernetes API server read only the ID token); a client opts out with minimal_id_token.
    // See README "Claims".
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    clientDefaults: { ...CLIENT_DEFAULTS },
    extraClientMetadata: { properties: [...GATEHOUSE_CLIENT_PROPERTIES], validator: validateClientProperty },
    clientBasedCORS: (_ctx, origin, client) => clientList(client, 'web_origins').includes(origin),
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256'],
      userinfoSigningAlgValues: [...USERINFO_SIGNING_ALGS],
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
      deviceFlow: {
        enabled: true,
        ...(pages === undefined
          ? {}
          : { userCodeInputSource: pages.userCodeInputSource, userCodeConfirmSource: pages.userCodeConfirmSource, successSource: pages.successSource }),
      },
      introspection: { enabled: true, allowedPolicy: introspectionWithoutAccessOnly(introspectionAllowedPolicy(apis, accounts), mapping) },
      // Only the client a token was issued to may revoke it; anyone else gets the same 200 as
      // for an unknown token (RFC 7009 §2.2), so revocation cannot probe for valid tokens.
      revocation: {
        enabled: true,
        allowedPolicy: async (ctx, client, token) => {
          if (token.clientId !== client.clientId) return false;
          await settings.beforeRevocation?.(ctx, token);
          return true;
        },
      },
      userinfo: { enabled: true },
      // A client with userinfo_signed_response_alg gets its userinfo as a JWT (application/jwt,
      // iss and aud set) signed with the provider's keys, as Keycloak's "User info signed response
      // algorithm"; a client without it gets JSON through the same code as before (the library
      // asks the client's metadata once per request). Discovery lists the algorithms.
      jwtUserinfo: { enabled: true },
      // OIDC Core §5.5: claims asked for by name, for the ID token or userinfo, essential or not.
      claimsParameter: { enabled: true, assertClaimsParameter: assertReachableAcr },
      rpInitiatedLogout: {
        enabled: true,
        ...(pages === undefined ? {} : { logoutSource: pages.logoutSource, postLogoutSuccessSource: pages.postLogoutSuccessSource }),
      },
      backchannelLogout: { enabled: true },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      dPoP: { enabled: true, nonceSecret: settings.dpopNonceSecret },
      resourceIndicators: resourceIndicators(apis, settings.adminAudience, accounts, openIdScopeTest(mapping)),
      registration: { enabled: settings.registration, initialAccessToken: true, issueRegistrationAccessToken: true },
      registrationManagement: { enabled: settings.registration, rotateRegistrationAccessToken: true },
    },
    extraTokenClaims: withActClaim(withMappedClaims(extraTokenClaims(apis, accounts), mapping, accounts)),
    formats: { customizers: { jwt: jwtWithoutIntrospectionOnly(settings.jwtCustomizer, mapping) } },
    // Keycloak-like refresh tokens: issued to every client allowed the grant, always rotated.
    // The refresh grant's only hook between finding the presented token and building the new
    // tokens also keeps the client's default scopes a narrower `scope` left out (src/oidc/default-scopes.ts).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: (ctx) => {
      keepDefaultScopes(ctx);
      return true;
    },
    loadExistingGrant: grantPolicy({ consents: settings.consents }),
    // Keycloak's kc_idp_hint and its plain form: go straight to that upstream provider (src/interactions/upstream.ts).
    // The library runs every validator here on each authorization and PAR request, its parameter
    // present or not: idp_hint's slot carries the offline_access rule for first-party clients, then
    // adds the client's default scopes to the request's (src/oidc/default-scopes.ts).
    // Auth0's `audience`: taken as the resource it names (src/oidc/audience-parameter.ts).
    extraParams: {
      idp_hint: async (ctx) => {
        await offlineAccessForFirstParty(ctx);
        addDefaultScopes(ctx);
      },
      kc_idp_hint: null,
      audience: audienceMatchesResource,
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? lifetimes.accessToken,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? lifetimes.accessToken,
      AuthorizationCode: lifetimes.authorizationCode,
      IdToken: lifetimes.idToken,
      RefreshToken: lifetimes.refreshToken,
      // A session nobody signed in to only holds a page's form secret (the device code page; a
      // stale cookie's empty record): kept as long as a sign-in may take, not the session lifetime.
      Session: (_ctx, session) => (session.accountId === undefined ? Math.min(lifetimes.interaction, lifetimes.session) : lifetimes.session),
      // A grant outlives every refresh token issued under it, so refreshing never stops early.
      Grant: Math.max(lifetimes.refreshToken, lifetimes.session),
      DeviceCode: lifetimes.deviceCode,
      BackchannelAuthenticationRequest: lifetimes.deviceCode,
      Interaction: lifetimes.interaction,
    },
    interactions: { url: (_ctx, interaction) => settings.interactionUrl(interaction.uid), policy },
    // The library does not publish this: the prompts a request may name (`create` only with self-registration).
    discovery: { prompt_values_supported: ['none', ...policy.filter((prompt) => prompt.requestable).map((prompt) => prompt.name)] },
    ...(pages === undefined ? {} : { renderError: pages.renderError }),
  };
}
