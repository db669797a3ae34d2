import { randomBytes } from 'node:crypto';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { Configuration } from 'oidc-provider';
import { cookieKeyList, providerJwks, type KeySet } from '../keys/key-store.ts';
import type { Logger } from '../observability/logger.ts';
import { providerConfiguration, type ProviderSettings } from './configuration.ts';
import type { AttemptLimiter } from '../limits/attempt-limits.ts';
import { countClientAuthFailures } from './client-auth-failures.ts';
import { attachProviderEvents, type ProviderObservers } from './events.ts';
import { providerErrorBoundary } from './error-boundary.ts';
import type { ErrorPageRenderer } from '../errors/respond.ts';
import { widenFormActionForClient } from './form-targets.ts';
import { composeWraps, createProvider } from './provider.ts';
import { completeRefreshRotations, type AbandonRotation, type CompleteRotation, type ReusedGrant } from './refresh-rotation.ts';
import { introspectionClaims } from './introspection-claims.ts';
import { signOutWithoutSession } from './anonymous-sign-out.ts';
import { consumePushedRequestOnFirstUse } from './par-one-time.ts';
import { registerGrants } from './grants/index.ts';
import { advertisePollInterval, slowDownFastPolls } from './grants/slow-down.ts';
import { keycloakRefreshScope } from './keycloak-refresh-scope.ts';
import type { DevicePolls } from '../limits/device-polls.ts';
import type { PasswordCheck, SecondFactorCheck, UnconfirmedEmailCheck } from './grants/password.ts';
import type { ResolveToken } from './grants/token-exchange.ts';
import { listGrantWhileInUse, type GrantInUse } from './grants/discovery.ts';
import { PASSWORD_GRANT, TOKEN_EXCHANGE_GRANT } from './client-metadata.ts';
import { cookieSigner } from '../http/cookie-signer.ts';
import { afterResponseSteps, type AfterResponseStep } from './after-response.ts';
import { captureStacksOfFailedAssertionsOnly } from './assertion-stacks.ts';
import { checkOnlyJwtShapedTokensForStructure, inStructuredTokenCheckPlace, type Step } from './opaque-token-check.ts';
import { grantTypeNotAllowedAsUnauthorizedClient, responseTypeNotAllowedAsUnauthorizedClient } from './unauthorized-client.ts';
import { reuseBuiltClients, type HeldClientRecord } from './built-clients.ts';
import { reuseScopeFilters } from './scope-filters.ts';

export interface ProviderBuilderDeps {
  readonly issuer: string;
  readonly logger: Logger;
  /** Everything but the keys, which come from the key set at build time. */
  readonly settings: Omit<ProviderSettings, 'jwks' | 'cookieKeys'>;
  /** Adds to the configuration before the instance is built (tests register clients this way). */
  readonly extendConfiguration?: ((configuration: Configuration) => Configuration) | undefined;
  /** Counts failed client authentications (enforced by the gate in front of the provider). */
  readonly clientAuthFailures?: AttemptLimiter | undefined;
  /** Audit and metrics fed from the provider's events. */
  readonly observers?: ProviderObservers | undefined;
  /** Renders errors that escape the provider's own handlers on its browser routes (src/interactions/page-errors.ts). */
  readonly errorPage?: ErrorPageRenderer | undefined;
  /** More steps after the provider's response (src/oidc/after-response.ts), innermost last: the Keycloak layout's credentialed CORS, the 404 page, ... */
  readonly afterResponse?: readonly AfterResponseStep[] | undefined;
  /** The provider's outermost middleware: the edge and gates for requests handed straight to it (src/oidc/direct-front.ts). */
  readonly front?: Middleware | undefined;
  /** Marks a rotated refresh token used once the refresh response is ready (refresh-rotation.ts). */
  readonly completeRotation?: CompleteRotation | undefined;
  /** Drops a rotation's held-back successor when its response failed (refresh-rotation.ts). */
  readonly abandonRotation?: AbandonRotation | undefined;
  /** The grant the storage revoked for a reused refresh token during this refresh grant (refresh-rotation.ts). */
  readonly reusedGrant?: ReusedGrant | undefined;
  /** Key for the `jti` introspection reports for opaque tokens (a keyed hash of the token); random when not given. */
  readonly tokenIdKey?: Buffer | undefined;
  /** The account rules of the hosted sign-in, for the password grant (src/oidc/grants/password.ts); no password grant without it. */
  readonly checkPassword?: PasswordCheck | undefined;
  /** Whether some client may use the password grant now; discovery lists the grant only then (src/oidc/grants/discovery.ts). */
  readonly passwordGrantInUse?: GrantInUse | undefined;
  /** Whether some client has a token exchange policy now; discovery lists token exchange only then. */
  readonly tokenExchangeInUse?: GrantInUse | undefined;
  /** The stored record of a presented access token (jwt-records.ts resolver), for token exchange; no token exchange without it. */
  readonly resolveToken?: ResolveToken | undefined;
  /** Whether a user must use a second factor (the password grant refuses them). */
  readonly needsSecondFactor?: SecondFactorCheck | undefined;
  /** Whether a user must confirm their email address first (the password grant refuses them). */
  readonly emailUnconfirmed?: UnconfirmedEmailCheck | undefined;
  /** Whether confirmation links can be mailed (the password grant's `verify_email`, as the hosted sign-in's). */
  readonly mailAvailable?: boolean | undefined;
  /** The server clock in milliseconds (StartOptions.clock), for the grants that judge expiry themselves. */
  readonly now?: (() => number) | undefined;
  /** Device-code polls seen by every instance: a poll sooner than the code's interval is answered slow_down (grants/slow-down.ts). */
  readonly devicePolls?: DevicePolls | undefined;
  /** The clients cache's record for an id, without a load (src/oidc/storage.ts): `Client.find` keeps the Client built for it (built-clients.ts). */
  readonly heldClientRecord?: HeldClientRecord | undefined;
  /** Runs in place of the library's structured-token check at introspection and revocation (jwt-records.ts structuredTokenSwap). */
  readonly structuredTokenSwap?: Step | undefined;
}

export type BuildProvider = (keySet: KeySet, now: Date) => Provider;

/**
 * The one function that turns a key set into a ready Provider: configuration with the keys as
 * they stand at `now`, then the event listeners. The key ring calls it on every key change.
 */
export function providerBuilder({ issuer, logger, settings, extendConfiguration, clientAuthFailures, observers, completeRotation, abandonRotation, reusedGrant, tokenIdKey, checkPassword, passwordGrantInUse, tokenExchangeInUse, resolveToken, needsSecondFactor, emailUnconfirmed, mailAvailable, now: serverClock, afterResponse: extraSteps = [], errorPage, front, devicePolls, heldClientRecord, structuredTokenSwap }: ProviderBuilderDeps): BuildProvider {
  const idKey = tokenIdKey ?? randomBytes(32);
  // One cache across rebuilds: key rotation builds a new provider, not a new answer.
  // Cached on the server clock, as every other cache (src/clock.ts).
  const cachedOn = serverClock === undefined ? {} : { now: serverClock };
  const passwordDiscovery = passwordGrantInUse === undefined ? undefined : listGrantWhileInUse(PASSWORD_GRANT, passwordGrantInUse, cachedOn);
  const exchangeDiscovery = tokenExchangeInUse === undefined ? undefined : listGrantWhileInUse(TOKEN_EXCHANGE_GRANT, tokenExchangeInUse, cachedOn);
  // The library's grants as Gatehouse runs them: device polls throttled, Keycloak-shaped clients' refreshes as Keycloak answers them.
  const wrapGrant = composeWraps(devicePolls === undefined ? undefined : slowDownFastPolls(devicePolls), keycloakRefreshScope());
  // Introspection and revocation: an opaque token (every swapped JWT's record id) is told from a JWT without a thrown error.
  checkOnlyJwtShapedTokensForStructure();
  return (keySet, now) => {
    const cookieKeys = cookieKeyList(keySet, now);
    const base = providerConfiguration({ ...settings, jwks: providerJwks(keySet, now), cookieKeys });
    const provider = createProvider({ issuer, configuration: extendConfiguration?.(base) ?? base, wrapGrant });
    // The library's own Koa signs its cookies with these keys too: keygrip's signatures, at a fraction of keygrip's cost.
    provider.keys = cookieSigner(cookieKeys);
    if (front !== undefined) provider.use(front);
    if (structuredTokenSwap !== undefined) inStructuredTokenCheckPlace(provider, structuredTokenSwap);
    const grantSteps = registerGrants(provider, { accounts: settings.accounts, apis: settings.apis, adminAudience: settings.adminAudience, checkPassword, resolveToken, needsSecondFactor, emailUnconfirmed, mailAvailable, now: serverClock, audit: observers?.audit, claimScopes: settings.claimScopes?.() });
    attachProviderEvents(provider, logger, observers);
    includeSessionIdInIdTokens(provider);
    if (heldClientRecord !== undefined) reuseBuiltClients(provider, heldClientRecord);
    reuseScopeFilters(provider);
    responseTypeNotAllowedAsUnauthorizedClient(provider);
    captureStacksOfFailedAssertionsOnly(provider);
    // What Gatehouse does to the library's responses, per route (outermost first), run by the
    // error boundary — the provider middleware right after the front — inside its own try. It also
    // records the route's name for the request log and adds Retry-After to the library's 503s.
    providerErrorBoundary(
      provider,
      logger,
      errorPage,
      afterResponseSteps([
        ...grantSteps,
        grantTypeNotAllowedAsUnauthorizedClient,
        ...(clientAuthFailures === undefined ? [] : [countClientAuthFailures(provider, clientAuthFailures, logger)]),
        widenFormActionForClient,
        introspectionClaims(settings.accounts, idKey),
        consumePushedRequestOnFirstUse,
        advertisePollInterval,
        signOutWithoutSession({ httpOnly: true, sameSite: settings.https ? 'none' : 'lax' }),
        ...(passwordDiscovery === undefined ? [] : [passwordDiscovery]),
        ...(exchangeDiscovery === undefined ? [] : [exchangeDiscovery]),
        ...(completeRotation === undefined ? [] : [completeRefreshRotations(completeRotation, abandonRotation, reusedGrant)]),
        ...extraSteps,
      ]),
    );
    return provider;
  };
}

/**
 * OpenID Back-Channel Logout 1.0 §2.1: an OP that supports session ids (discovery says
 * `backchannel_logout_session_supported: true`) includes `sid` in its ID tokens. The library adds
 * it only for clients with a back-channel logout URI that require it (Client#includeSid), and
 * offers no setting for it; this instance's Client class (each Provider has its own) is told to
 * include it always. The `sid` is per client and session, so it links nothing across apps.
 */
function includeSessionIdInIdTokens(provider: Provider): void {
  Object.defineProperty(provider.Client.prototype, 'includeSid', { value: () => true, configurable: true, writable: true });
}
