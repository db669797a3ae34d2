import type { JWK } from 'jose';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { dateClock } from '../clock.ts';
import { deriveKey } from '../crypto/secret-box.ts';
import { previousSecretGate } from '../clients/previous-secret.ts';
import { deviceBlockedPage } from '../interactions/device-blocked.ts';
import { stepPrompts } from '../interactions/engine.ts';
import { pageExtraRoutes } from '../interactions/language.ts';
import { deviceEndpointPage } from '../interactions/device-endpoint-page.ts';
import { notFoundPage, notFoundPageStep } from '../interactions/not-found.ts';
import { errorPage } from '../interactions/page-errors.ts';
import { providerFormBodies } from '../interactions/provider-form-bodies.ts';
import { providerPages } from '../interactions/provider-pages.ts';
import type { SignInStep } from '../interactions/steps/step.ts';
import type { Views } from '../interactions/views.ts';
import { allowCredentialedTokenRequests } from '../keycloak/cors-credentials.ts';
import { envelopeRefreshTokens, openRefreshEnvelopes } from '../keycloak/refresh-envelope.ts';
import { sessionStatusPages } from '../keycloak/session-status.ts';
import { registrationsPage } from '../keycloak/registrations.ts';
import { signingKeyAgeSeconds } from '../keys/key-age.ts';
import { createKeyRing, type KeyChangeNotices, type KeyRing } from '../keys/key-ring.ts';
import { providerJwks, type KeySet } from '../keys/key-store.ts';
import { keySetView } from '../keys/key-view.ts';
import { clientAuthGate, userCodeGate } from '../limits/gates.ts';
import { logoutDeadlines } from '../oidc/session-logout.ts';
import { refreshGrantScope } from '../oidc/refresh-grant-scope.ts';
import { needsSecondFactor } from '../mfa/needs-second-factor.ts';
import { accountDirectory } from '../oidc/accounts.ts';
import { providerBuilder } from '../oidc/build-provider.ts';
import { createJwtRecords, type JwtRecords } from '../oidc/jwt-records.ts';
import { refuseOversizedForms } from '../http/oversized-forms.ts';
import { hasKeycloakClaims } from '../oidc/keycloak-claims.ts';
import { interactionPath } from '../routes/table.ts';
import { unverifiedEmailStops } from '../interactions/steps/verify-email.ts';
import { CREATE_PROMPT } from '../oidc/interaction-policy.ts';
import { listWhileOn } from '../oidc/discovery-list.ts';
import { answerRefusedRequestObjects } from '../oidc/refused-request-objects.ts';
import { directFront } from '../oidc/direct-front.ts';
import { audienceAtToken } from '../oidc/audience-parameter.ts';
import { answerWrongMethods } from '../oidc/wrong-method.ts';
import type { AfterResponseStep } from '../oidc/after-response.ts';
import { providerLocalPathStep } from '../oidc/mount.ts';
import type { Limits } from './limits.ts';
import type { SelfService } from './self-service.ts';
import type { Wiring } from './wiring.ts';

const PUBLIC_MEMBERS = ['kid', 'kty', 'alg', 'use', 'n', 'e', 'crv', 'x', 'y'] as const;

function publicJwk(jwk: JWK): JWK {
  return Object.fromEntries(PUBLIC_MEMBERS.filter((name) => jwk[name] !== undefined).map((name) => [name, jwk[name]]));
}

export interface OidcProvider {
  /** Builds a Provider per key set and swaps it in on every key change (docs/KEYS.md). */
  readonly ring: KeyRing<Provider>;
  readonly jwtRecords: JwtRecords;
  /** The public keys tokens are checked against right now. */
  readonly publicJwks: () => { keys: JWK[] };
  /** Pages in front of the provider: 404 page, language switch, Keycloak's session-status pages, the device endpoint's page, the library's forms' bodies. */
  readonly pagesBeforeProvider: Middleware[];
  /** What runs in front of the provider on every provider path: the Keycloak refresh envelope, attempt-limit gates, JWT swaps. */
  readonly beforeProvider: Middleware[];
}

export interface ProviderParts {
  readonly views: Views;
  /** The sign-in & self-service settings and email confirmation (the verified-email rule of the password grant, prompt=create). */
  readonly selfService: SelfService;
  readonly steps: SignInStep[];
  readonly limits: Limits;
  /** After the provider's responses, after the 404 page (upstream sign-out at end_session; src/oidc/after-response.ts). */
  readonly afterResponse: readonly AfterResponseStep[];
  /** Hears every Provider swap with its key set (the Koa app signs cookies with the same keys). */
  readonly onSwap: (keySet: KeySet, now: Date) => void;
  /** The edge the provider runs for the requests handed straight to it (src/http/edge.ts, `serves: 'oauth-endpoints'`): the request id, log line, JSON answers' headers, error mapper. */
  readonly edge: Middleware;
}

/** The provider: its configuration (built per key set by the key ring), JWT records and the gates in front of it. */
export async function startProvider(w: Wiring, { views, selfService, steps, limits, afterResponse: afterSteps, onSwap, edge }: ProviderParts): Promise<OidcProvider> {
  const { config, core, clock, logger, metrics, secret, options } = w;
  const { services, storage, accountLayer, audit } = core;
  const jwtRecords = createJwtRecords({ secret, adapter: storage.adapter, now: clock.now });
  const keycloakLayout = config.routes.layout === 'keycloak';
  // Read on every JWT introspection and userinfo call: derived once per key set and status change.
  const publicJwks = keySetView(() => ring.keySet(), clock.now, (set, at) => ({ keys: providerJwks(set, at).map(publicJwk) }));
  const notices: KeyChangeNotices | undefined = core.keyNotices;
  // In front of the provider on every provider path: run by Gatehouse's app for the paths it
  // routes, and by the provider itself (its outermost middleware, after the edge) for the OAuth
  // endpoints handed straight to it (src/app.ts).
  const beforeProvider: Middleware[] = [
    ...(keycloakLayout ? [openRefreshEnvelopes(config.routes)] : []),
    clientAuthGate(limits.clientAuthFailures, config.routes),
    // A secret from before a rotation with a grace period, swapped for the current one while the grace lasts.
    previousSecretGate({ routes: config.routes, findClient: (clientId) => storage.adapter('Client').find(clientId), now: clock.now, audit: (event) => audit.record(event) }),
    userCodeGate(limits.userCodeFailures, deviceBlockedPage(views), config.routes),
    // A request object is refused (request_not_supported) where and how the client asked in it.
    answerRefusedRequestObjects(config.routes),
    // Where nothing ahead reads the form for a client authenticating in its header: the JWT swap runs
    // inside the library's actions at introspection and revocation (structuredTokenSwap below), and
    // PAR and device authorization read none. An oversized body left on the socket hung the connection.
    refuseOversizedForms(['introspection', 'revocation', 'pushed_authorization_request', 'device_authorization'], config.routes),
    // keycloak-js's loadUserInfo() sends the access token, which Keycloak accepts at userinfo whatever its audience.
    jwtRecords.swapForUserinfo({ issuer: config.issuer, publicJwks, routes: config.routes }, hasKeycloakClaims),
    // After the Keycloak envelope is opened: the scope names the opaque token the provider finds.
    refreshGrantScope(config.routes, storage.adapter.inRefreshGrant),
    // Auth0's `audience` at /token as the RFC 8707 resource it names.
    audienceAtToken(config.routes),
  ];
  const front = directFront([edge, ...beforeProvider, providerLocalPathStep(config.routes)]);
  const ring: KeyRing<Provider> = createKeyRing({
    store: core.keyStore,
    build: providerBuilder({
      issuer: config.issuer,
      logger,
      extendConfiguration: options.extendConfiguration,
      clientAuthFailures: limits.clientAuthFailures,
      devicePolls: limits.devicePolls,
      errorPage: errorPage(views, config.routes.interaction),
      front,
      completeRotation: storage.adapter.completeRotation,
      abandonRotation: storage.adapter.abandonRotation,
      reusedGrant: storage.adapter.reusedGrant,
      heldClientRecord: storage.heldClientRecord,
      tokenIdKey: deriveKey(secret, 'introspection-token-ids'),
      // Throws HashQueueFullError when the hashing pool is saturated (the grant answers 503).
      checkPassword: async (login, password, ip, clientId) => {
        const result = await accountLayer.accounts.authenticate(login, password, ip, clientId, 'password');
        return result.ok ? { ok: true, sub: result.user.id, username: result.user.username } : { ok: false };
      },
      needsSecondFactor: async (account, clientRequires) => needsSecondFactor(await services.runtimeSettings.mfaPolicyNow(), account, clientRequires),
      // The hosted sign-in's rule (verify-email step), read per request.
      emailUnconfirmed: async (account) =>
        unverifiedEmailStops((await selfService.signIn()).require_verified_email, (account as { unverifiedEmail?: 'self-registered' | 'other' }).unverifiedEmail, selfService.verification.available),
      // The required action verify_email, as the hosted sign-in's step asks for it (only when mail can go out).
      mailAvailable: selfService.verification.available,
      now: clock.now,
      resolveToken: jwtRecords.resolver({ issuer: config.issuer, publicJwks }),
      // A JWT at introspection / revocation, swapped for its record id inside the library's action.
      structuredTokenSwap: jwtRecords.structuredTokenSwap({ issuer: config.issuer, publicJwks }),
      passwordGrantInUse: async () => (await services.clients.list()).some((client) => client.metadata.allow_password_grant === true),
      tokenExchangeInUse: async () => (await services.clients.list()).some((client) => client.metadata.token_exchange !== undefined && client.metadata.token_exchange !== null),
      // The hosted 404 page for browsers also covers paths the provider's own router does not know.
      afterResponse: [
        ...(keycloakLayout ? [allowCredentialedTokenRequests, envelopeRefreshTokens] : []),
        notFoundPageStep(views),
        // A wrong method on an OAuth endpoint: JSON 405 with Allow, not the plain-text 404 (inside the page above).
        answerWrongMethods(config.routes, {
          token: ['POST', 'OPTIONS'],
          introspection: ['POST', 'OPTIONS'],
          revocation: ['POST', 'OPTIONS'],
          pushed_authorization_request: ['POST', 'OPTIONS'],
          // GET and HEAD: a browser is sent to the code entry page (deviceEndpointPage below).
          device_authorization: ['GET', 'HEAD', 'POST', 'OPTIONS'],
          userinfo: ['GET', 'HEAD', 'POST', 'OPTIONS'],
          jwks: ['GET', 'HEAD', 'OPTIONS'],
          // Registration is server to server, without CORS (as the library has it): OPTIONS is a wrong method there too.
          ...(config.registration ? { registration: ['POST'], registration_client: ['GET', 'HEAD', 'PUT', 'DELETE'] } : {}),
        }),
        ...afterSteps,
        // prompt=create is listed while self-registration is on (a runtime setting).
        listWhileOn('prompt_values_supported', CREATE_PROMPT, async () => (await selfService.signIn()).self_registration),
      ],
      observers: {
        audit,
        tokenIssued: (grantType) => metrics.tokenIssued(grantType),
        tokenError: (error) => metrics.tokenError(error),
        backchannelLogout: (outcome) => metrics.backchannelLogout(outcome),
        storeUnavailable: (store) => metrics.storeUnavailable(store),
        // Noted for a batched write, off the request path (sessions/devices.ts).
        sessionSeen: ({ sessionUid, accountId, ip, userAgent, newSession }) => services.sessionDevices.seen(sessionUid, accountId, ip, userAgent, newSession),
      },
      settings: {
        adapter: storage.adapter,
        lifetimes: config.lifetimes,
        requirePkce: config.requirePkce,
        allowPrivateNetworkFetch: config.allowPrivateNetworkFetch,
        logoutDeadline: logoutDeadlines(clock),
        registration: config.registration,
        adminAudience: services.adminAudience,
        https: w.https,
        dpopNonceSecret: deriveKey(secret, 'dpop-nonce'),
        accounts: core.accountCache.directory(accountDirectory(accountLayer.accounts)),
        apis: services.apis,
        claimScopes: () => services.claimScopes.current(),
        consents: services.consents,
        jwtCustomizer: jwtRecords.customizer,
        beforeRevocation: jwtRecords.beforeRevocation,
        interactionUrl: (uid) => interactionPath(config.routes, uid),
        routes: config.routes.provider,
        prompts: stepPrompts(steps),
        pages: providerPages({ views, logger }),
      },
    }),
    // Koa reads app.keys per request, so the app and the new provider sign cookies alike.
    onSwap: (_provider, keySet, now) => onSwap(keySet, now),
    policy: config.keys,
    now: dateClock(clock),
    ...(clock.onJump === undefined ? {} : { onClockJump: clock.onJump }),
    notices,
    onError: (error, during) => logger.warn({ err: error, during }, 'key set update failed; serving the current keys'),
    onScheduledRotation: (result) =>
      audit.record({
        type: 'keys.rotated',
        actor: { type: 'system', id: 'rotation-interval' },
        target: { type: 'keyset', id: String(result.keySet.version) },
        details: { rotated: true, kids: result.signingKeys.map((key) => key.kid) },
      }),
  });
  w.onClose(() => ring.close());
  await ring.start();
  metrics.watchSigningKeys(() => signingKeyAgeSeconds(ring.keySet(), new Date(clock.now())));
  // The claim scopes are part of the provider's configuration (scopes, claims): a change builds it again.
  services.claimScopes.onChange(() =>
    ring.rebuild().catch((error: unknown) => logger.warn({ err: error }, 'the provider could not be rebuilt with the new claim scopes; serving the previous ones')),
  );

  // Pages in front of the provider: never on the OAuth endpoints (src/app.ts skips them there).
  const pagesBeforeProvider: Middleware[] = [
    notFoundPage(views),
    pageExtraRoutes({ views, secureCookies: w.https }).routes() as Middleware,
    sessionStatusPages(config.routes),
    registrationsPage(config.routes, config.issuer),
    deviceEndpointPage(config.routes, config.issuer),
    // The library's own forms (sign-out confirmation, device code) in the encodings Gatehouse's forms take.
    providerFormBodies(config.routes, views, logger),
  ];
  return { ring, jwtRecords, publicJwks, pagesBeforeProvider, beforeProvider };
}
