import type { Server } from 'node:http';
import Koa_ from 'koa';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { JWK } from 'jose';
import type Koa from 'koa';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { Configuration } from 'oidc-provider';
import { bootstrapAdmin } from './admin/bootstrap.ts';
import { ensureConsoleClient } from './console/client.ts';
import { consoleRoutes } from './console/routes.ts';
import { accountPage } from './account/routes.ts';
import { ensureAccountClient } from './clients/account-client.ts';
import { effectiveWithRuntime } from './config/effective.ts';
import { createApp } from './app.ts';
import { dateClock, systemClock, type Clock } from './clock.ts';
import type { Config } from './config/load.ts';
import { createSecretBox, deriveKey } from './crypto/secret-box.ts';
import { upstreamSignIn } from './interactions/upstream.ts';
import { upstreamLogout } from './interactions/upstream-logout.ts';
import { createUpstreamSessions } from './upstream/sessions.ts';
import { upstreamLinking } from './upstream/linking.ts';
import { createUpstreamProtocol } from './upstream/protocol.ts';
import { clientErrorHandler } from './http/client-error.ts';
import { loadOnFirstRequest } from './http/load-on-first-request.ts';
import { createHttpServer } from './http/server-timeouts.ts';
import { deviceBlockedPage } from './interactions/device-blocked.ts';
import { errorPage } from './interactions/page-errors.ts';
import { providerPages } from './interactions/provider-pages.ts';
import { stepPrompts } from './interactions/engine.ts';
import { interactionRoutes } from './interactions/routes.ts';
import { signInSteps } from './interactions/steps/index.ts';
import type { SignInStep } from './interactions/steps/step.ts';
import { createViews, type Views } from './interactions/views.ts';
import type { Locale } from './interactions/i18n.ts';
import { openAttemptLimits } from './limits/attempt-limits.ts';
import { clientAuthGate, userCodeGate } from './limits/gates.ts';
import { announceKeyChange, listenForKeyChanges } from './keys/change-notice.ts';
import { createKeyRing, type KeyChangeNotices, type KeyRing } from './keys/key-ring.ts';
import { DEFAULT_PASSWORD_POLICY } from './accounts/password-policy.ts';
import { openPasswordResets } from './accounts/password-resets.ts';
import { passwordResetRoutes } from './interactions/password-reset-routes.ts';
import { createEmailVerification } from './accounts/email-verification.ts';
import { openEmailVerifications } from './accounts/email-verifications.ts';
import { createSelfRegistration } from './accounts/self-registration.ts';
import { emailVerificationRoutes } from './interactions/email-verification-routes.ts';
import { registration } from './interactions/steps/registration.ts';
import Router from '@koa/router';
import { createMailService, type MailService } from './mail/mail-service.ts';
import { createMailer } from './mail/mailer.ts';
import { smtpTransport } from './mail/smtp-transport.ts';
import { cookieKeyList, providerJwks, type KeySet, type RotationResult } from './keys/key-store.ts';
import type { Logger } from './observability/logger.ts';
import { startIdleCollector } from './observability/idle-collector.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { describeMetrics, metricsExposure } from './observability/metrics-exposure.ts';
import { metricsRoutes } from './observability/metrics-routes.ts';
import { enrolmentKeeper } from './mfa/enrolment.ts';
import { needsSecondFactor } from './mfa/needs-second-factor.ts';
import { unverifiedEmailStops } from './interactions/steps/verify-email.ts';
import { CREATE_PROMPT } from './oidc/interaction-policy.ts';
import { listPromptWhileOn } from './oidc/prompt-discovery.ts';
import QRCode from 'qrcode';
import { accountDirectory, profileOf } from './oidc/accounts.ts';
import { providerBuilder } from './oidc/build-provider.ts';
import { createJwtRecords } from './oidc/jwt-records.ts';
import { closeStores, composeCore, openStores, StartupError } from './composition.ts';
import type { AuditTrail } from './observability/audit-trail.ts';
import type { GatehouseServices } from './services.ts';
import { pingMongo } from './storage/mongo.ts';
import { pingRedis } from './storage/redis.ts';
import type { StoreCommandListener } from './storage/command-watch.ts';
import { allowCredentialedTokenRequests } from './keycloak/cors-credentials.ts';
import { envelopeRefreshTokens, openRefreshEnvelopes } from './keycloak/refresh-envelope.ts';
import { sessionStatusPages } from './keycloak/session-status.ts';
import { hasKeycloakClaims } from './oidc/keycloak-claims.ts';
import { endpointPath, interactionPath, upstreamLinkPath } from './routes/table.ts';
import { pageExtraRoutes } from './interactions/language.ts';
import { notFoundPage } from './interactions/not-found.ts';

export type { GatehouseServices };

export interface RunningGatehouse {
  readonly url: string;
  /** Where /metrics is served when GATEHOUSE_METRICS_PORT is set. */
  readonly metricsUrl: string | undefined;
  /** Where /metrics is, in words for the startup log. */
  readonly metricsLocation: string;
  readonly server: Server;
  readonly metrics: Metrics;
  /** The audit trail (log stream + batched MongoDB writes). */
  readonly audit: AuditTrail;
  /** Writes what is batched off the request path now: audit events and last sign-in times. */
  flushBatchedWrites(): Promise<void>;
  readonly app: Koa;
  readonly services: GatehouseServices;
  /** The key set this instance serves right now. */
  readonly keySet: KeySet;
  /** Rotates the shared keys now; every instance picks the change up (see docs/KEYS.md). */
  rotateKeys(): Promise<RotationResult>;
  /** Stops accepting, lets in-flight requests finish (up to the shutdown timeout), closes stores. */
  close(): Promise<void>;
}

export { StartupError };

export interface StartOptions {
  /** Adds to every Provider's configuration (tests register clients this way). */
  readonly extendConfiguration?: (configuration: Configuration) => Configuration;
  /**
   * Gatehouse's clock (src/clock.ts): record expiry and the reuse window, caches, key activation
   * and removal, lockouts, attempt limits, reset tokens. Tests move it instead of sleeping.
   */
  readonly clock?: Clock;
  /** Hears every command the main MongoDB and Redis connections send (tests count round trips with it). */
  readonly onStoreCommand?: StoreCommandListener;
  /** Sign-in steps added after Gatehouse's own (before consent); a test registers one this way. */
  readonly extraSteps?: readonly SignInStep[];
  /** The clock of the second-factor checks (TOTP steps); tests move it. */
  readonly secondFactorClock?: () => Date;
}

const VIEWS_DIRECTORY = fileURLToPath(new URL('../views', import.meta.url));
const PUBLIC_MEMBERS = ['kid', 'kty', 'alg', 'use', 'n', 'e', 'crv', 'x', 'y'] as const;

function publicJwk(jwk: JWK): JWK {
  return Object.fromEntries(PUBLIC_MEMBERS.filter((name) => jwk[name] !== undefined).map((name) => [name, jwk[name]]));
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function openViews(config: Config): Views {
  const { brandName, logoUrl, primaryColor, supportUrl, viewsDir } = config.pages;
  try {
    const { interaction, assets } = config.routes;
    return createViews({ directory: VIEWS_DIRECTORY, overrides: viewsDir, brand: { name: brandName, logoUrl, primaryColor, supportUrl }, paths: { interaction, assets } });
  } catch (error) {
    throw new StartupError('GATEHOUSE_VIEWS_DIR', `cannot load the hosted pages' templates (${reason(error)})`);
  }
}

/** Reset emails per address and hour, and per typed login (known or not) and hour. */
const PASSWORD_RESET_IP_LIMIT = 20;
const PASSWORD_RESET_LOGIN_LIMIT = 3;
const PASSWORD_RESET_WINDOW = 3600;
/** Registrations per address and hour, emails per registering address and hour, resent links per user and hour. */
const REGISTRATION_IP_LIMIT = 10;
const REGISTRATION_EMAIL_LIMIT = 3;
const VERIFICATION_RESEND_LIMIT = 5;

function openMail(config: Config, views: Views, logger: Logger, metrics: Metrics): MailService<Locale> | undefined {
  if (config.mail === undefined) return undefined;
  const mailer = createMailer({
    transport: smtpTransport(config.mail),
    from: config.mail.from,
    logger,
    onDelivery: (kind, outcome) => metrics.mailDelivery(kind, outcome),
  });
  return createMailService<Locale>({ mailer, render: (name, locale, model) => views.renderMail(name, locale, model) });
}

function redisNotices(redis: Redis, redisPrefix: string): KeyChangeNotices {
  return {
    announce: (version) => announceKeyChange(redis, redisPrefix, version),
    listen: (onNotice) => listenForKeyChanges(redis, redisPrefix, onNotice),
  };
}

/** Wires everything from a validated config and starts listening. */
export async function startGatehouse(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningGatehouse> {
  const clock = options.clock ?? systemClock;
  const stores = await openStores(config, options.onStoreCommand);
  const { mongo, redis } = stores;
  const closers: Array<() => Promise<void>> = [];
  try {
    const secret = config.secret.reveal();
    const metrics = createMetrics();
    // Memory taken by a burst of traffic comes back once it has passed (idle-collector.ts).
    const idleCollector = startIdleCollector({ onCollect: (ms) => logger.debug({ ms }, 'idle: memory given back') });
    closers.push(async () => idleCollector.stop());
    const core = await composeCore(config, logger, stores, { mode: 'server', metrics, clock, secondFactorClock: options.secondFactorClock });
    closers.push(() => core.close());
    const { services, storage, accountLayer, audit } = core;
    if (!storage.ttlIndexes) {
      // Expected on FerretDB v1; everything that expires (oidc records, sign-in limits, audit) is swept.
      logger.info('MongoDB server has no TTL indexes (FerretDB): expired records are deleted by periodic sweepers');
    }
    const { apis } = services;
    metrics.watchHashPool(() => accountLayer.hasher.stats());
    const accounts = core.accountCache.directory(accountDirectory(accountLayer.accounts));
    await bootstrapAdmin(services, config.admin === undefined ? undefined : { username: config.admin.username, password: config.admin.password.reveal() }, logger);
    await ensureConsoleClient({ clients: services.clients, adminAudience: services.adminAudience, consoleUrl: `${new URL(config.issuer).origin}${config.routes.console}/` });
    await ensureAccountClient({ clients: services.clients, accountUrl: `${new URL(config.issuer).origin}${config.routes.account}/` });
    const jwtRecords = createJwtRecords({ secret, adapter: storage.adapter, now: clock.now });
    const https = new URL(config.issuer).protocol === 'https:';
    const views = openViews(config);
    const mail = openMail(config, views, logger, metrics);
    if (mail !== undefined) closers.push(() => mail.close());
    const attempts = await openAttemptLimits({
      redis,
      mongo,
      logger,
      redisPrefix: config.redisPrefix,
      onFallback: (limiter) => metrics.rateLimitFallback(limiter),
      now: clock.now,
    });
    closers.push(async () => attempts.close());
    const { windowSeconds } = config.attemptLimits;
    const clientAuthFailures = attempts.limiter('client_auth', config.attemptLimits.clientAuthFailures, windowSeconds);
    const userCodeFailures = attempts.limiter('user_code', config.attemptLimits.userCodeFailures, windowSeconds);
    // Sign-in and self-service settings are read at each use (cached per instance, src/settings/).
    const signIn = () => services.signInSettings.current();
    const resets = await openPasswordResets({ mongo, ttlSeconds: async () => (await signIn()).password_reset_ttl, now: clock.now });
    const verificationTtl = async () => (await signIn()).email_verification_ttl;
    const passwordPolicy = { ...DEFAULT_PASSWORD_POLICY, minLength: config.passwords.minLength };
    const origin = new URL(config.publicUrl).origin;
    const verifications = await openEmailVerifications({ mongo, ttlSeconds: verificationTtl, now: clock.now });
    const auditSelfService = (type: 'user.registered' | 'user.registration_existing_email' | 'user.email_verification_sent' | 'user.email_verified', userId: string | null) =>
      audit.record({
        type,
        actor: type === 'user.registration_existing_email' || userId === null ? { type: 'anonymous', id: null } : { type: 'user', id: userId },
        target: userId === null ? null : { type: 'user', id: userId },
      });
    const selfRegistration =
      mail !== undefined
        ? createSelfRegistration<Locale>({
            accounts: accountLayer.accounts,
            hasher: accountLayer.hasher,
            verifications,
            mail,
            links: {
              verify: `${origin}${config.routes.email}/verify`,
              forgotPassword: async () => ((await signIn()).password_reset ? `${origin}${config.routes.password}/forgot` : undefined),
            },
            ttlSeconds: verificationTtl,
            verifyFirst: async () => (await signIn()).require_verified_email !== 'off',
            onEvent: (event) => auditSelfService(event.type, event.userId),
          })
        : undefined;
    const verification = createEmailVerification<Locale>({
      verifications,
      accounts: accountLayer.accounts,
      mail,
      linkBase: `${origin}${config.routes.email}/verify`,
      ttlSeconds: verificationTtl,
      completeRegistration: selfRegistration?.complete,
      onEvent: (event) => auditSelfService(event.type, event.userId),
    });

    // Admin API and account page alike: the mail goes out in the user's own language (their `locale` claim), else English.
    const verificationSender =
      mail === undefined
        ? undefined
        : { send: async (userId: string) => verification.send(userId, views.negotiate((await accountLayer.accounts.findById(userId))?.attributes.locale, undefined)) };

    const upstreamProtocol = createUpstreamProtocol({ credentials: (alias) => services.upstream.credentials(alias), now: clock.now });
    const upstreamBox = createSecretBox(secret, 'upstream-transactions');
    const upstream = upstreamSignIn({
      provider: () => ring.current(),
      directory: services.upstream,
      protocol: upstreamProtocol,
      linking: upstreamLinking({ directory: services.upstream, accounts: accountLayer.accounts, users: services.users, audit }),
      views,
      logger,
      audit,
      box: upstreamBox,
      paths: config.routes,
      publicOrigin: new URL(config.publicUrl).origin,
      secureCookies: https,
      accountLinking: { tickets: services.upstreamLinkTickets, accountUrl: `${new URL(config.publicUrl).origin}${config.routes.account}/` },
      now: clock.now,
    });
    const upstreamSignOut = upstreamLogout({
      directory: services.upstream,
      protocol: upstreamProtocol,
      sessions: createUpstreamSessions({ mongo, box: createSecretBox(secret, 'upstream-sessions'), now: dateClock(clock) }),
      views,
      logger,
      audit,
      box: upstreamBox,
      paths: config.routes,
      publicOrigin: new URL(config.publicUrl).origin,
      secureCookies: https,
      signedOutUrl: `${new URL(config.publicUrl).origin}${endpointPath(config.routes, 'end_session')}/success`,
      now: clock.now,
    });

    const steps = signInSteps(
      {
        loginExtension: upstream.extension,
        authenticator: {
          // Throws HashQueueFullError when the hashing pool is saturated (the page answers 503).
          async authenticate(login, password, ip, clientId) {
            // The tokens that follow need the user's claims: keep what this read found (one read per sign-in, not two).
            const signingIn = core.accountCache.signingIn();
            try {
              const result = await accountLayer.accounts.authenticate(login, password, ip, clientId);
              if (!result.ok) return { ok: false };
              signingIn.signedIn(profileOf(result.user));
              return { ok: true, sub: result.user.id };
            } finally {
              signingIn.end();
            }
          },
          // The user now types a password: start a hashing worker if none is idle (they exit when idle).
          prepare: () => accountLayer.hasher.warmUp(),
          isActive: (id) => accountLayer.accounts.isActive(id),
        },
        signedIn: {
          async name(sub) {
            const user = await accountLayer.accounts.findById(sub);
            if (user === undefined) return undefined;
            return user.name !== undefined && user.name !== null && user.name !== '' && user.name !== user.username ? `${user.name} (${user.username})` : user.username;
          },
          signOutPath: endpointPath(config.routes, 'end_session'),
        },
        forgotPasswordPath: async () => ((await signIn()).password_reset ? `${config.routes.password}/forgot` : undefined),
        registration: registration({
          register: selfRegistration?.register,
          policy: passwordPolicy,
          settings: async () => {
            const settings = await signIn();
            return { enabled: settings.self_registration, domains: settings.self_registration_domains };
          },
          limits: {
            ip: attempts.limiter('registration_ip', REGISTRATION_IP_LIMIT, PASSWORD_RESET_WINDOW),
            email: attempts.limiter('registration_email', REGISTRATION_EMAIL_LIMIT, PASSWORD_RESET_WINDOW),
          },
          interactionPath: config.routes.interaction,
          onError: (error) => logger.error({ err: error }, 'self-registration not completed'),
        }),
        verifyEmail: {
          rule: async () => (await signIn()).require_verified_email,
          verification,
          accounts: accountLayer.accounts,
          resends: attempts.limiter('email_verification_resend', VERIFICATION_RESEND_LIMIT, PASSWORD_RESET_WINDOW),
          interactionPath: config.routes.interaction,
        },
        secondFactor: {
          passkeys: services.passkeys,
          challengeKey: deriveKey(secret, 'passkey-challenges'),
          syncEnrolment: enrolmentKeeper({ factors: services.factors, passkeys: services.passkeys, accounts: accountLayer.accounts }),
          factors: services.factors,
          policy: config.mfa,
          issuerName: config.pages.brandName,
          accountLabel: async (id) => (await accountLayer.accounts.findById(id))?.username ?? id,
          qrSvg: (text) => QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 }),
        },
      },
      options.extraSteps,
    );

    const keycloakLayout = config.routes.layout === 'keycloak';
    let app: Koa | undefined;
    const ring: KeyRing<Provider> = createKeyRing({
      store: core.keyStore,
      build: providerBuilder({
        issuer: config.issuer,
        logger,
        extendConfiguration: options.extendConfiguration,
        clientAuthFailures,
        errorPage: errorPage(views, config.routes.interaction),
        completeRotation: storage.adapter.completeRotation,
        abandonRotation: storage.adapter.abandonRotation,
        tokenIdKey: deriveKey(secret, 'introspection-token-ids'),
        // Throws HashQueueFullError when the hashing pool is saturated (the grant answers 503).
        checkPassword: async (login, password, ip, clientId) => {
          const result = await accountLayer.accounts.authenticate(login, password, ip, clientId, 'password');
          return result.ok ? { ok: true, sub: result.user.id, username: result.user.username } : { ok: false };
        },
        needsSecondFactor: (account, clientRequires) => needsSecondFactor(config.mfa, account, clientRequires),
        // The hosted sign-in's rule (verify-email step), read per request.
        emailUnconfirmed: async (account) =>
          unverifiedEmailStops((await signIn()).require_verified_email, (account as { unverifiedEmail?: 'self-registered' | 'other' }).unverifiedEmail, verification.available),
        now: clock.now,
        resolveToken: jwtRecords.resolver({ issuer: config.issuer, publicJwks: () => ({ keys: providerJwks(ring.keySet(), new Date(clock.now())).map(publicJwk) }) }),
        passwordGrantInUse: async () => (await services.clients.list()).some((client) => client.metadata.allow_password_grant === true),
        tokenExchangeInUse: async () => (await services.clients.list()).some((client) => client.metadata.token_exchange !== undefined && client.metadata.token_exchange !== null),
        // The hosted 404 page for browsers also covers paths the provider's own router does not know.
        middleware: [
          ...(keycloakLayout ? [allowCredentialedTokenRequests, envelopeRefreshTokens] : []),
          notFoundPage(views),
          upstreamSignOut.middleware,
          // prompt=create is listed while self-registration is on (a runtime setting).
          listPromptWhileOn(CREATE_PROMPT, async () => (await signIn()).self_registration),
        ],
        observers: {
          audit,
          tokenIssued: (grantType) => metrics.tokenIssued(grantType),
          tokenError: (error) => metrics.tokenError(error),
          storeUnavailable: (store) => metrics.storeUnavailable(store),
          // Noted for a batched write, off the request path (sessions/devices.ts).
          sessionSeen: ({ sessionUid, accountId, ip, userAgent }) => services.sessionDevices.seen(sessionUid, accountId, ip, userAgent),
        },
        settings: {
          adapter: storage.adapter,
          lifetimes: config.lifetimes,
          requirePkce: config.requirePkce,
          allowPrivateNetworkFetch: config.allowPrivateNetworkFetch,
          registration: config.registration,
          adminAudience: services.adminAudience,
          https,
          dpopNonceSecret: deriveKey(secret, 'dpop-nonce'),
          accounts,
          apis,
          jwtCustomizer: jwtRecords.customizer,
          beforeRevocation: jwtRecords.beforeRevocation,
          interactionUrl: (uid) => interactionPath(config.routes, uid),
          routes: config.routes.provider,
          prompts: stepPrompts(steps),
          pages: providerPages({ views, logger, userCodes: userCodeFailures }),
        },
      }),
      // Koa reads app.keys per request, so the app and the new provider sign cookies alike.
      onSwap: (_provider, keySet, now) => {
        if (app !== undefined) app.keys = cookieKeyList(keySet, now);
      },
      policy: config.keys,
      now: dateClock(clock),
      ...(clock.onJump === undefined ? {} : { onClockJump: clock.onJump }),
      notices: redis === undefined ? undefined : redisNotices(redis, config.redisPrefix),
      onError: (error, during) => logger.warn({ err: error, during }, 'key set update failed; serving the current keys'),
      onScheduledRotation: (result) =>
        audit.record({
          type: 'keys.rotated',
          actor: { type: 'system', id: 'rotation-interval' },
          target: { type: 'keyset', id: String(result.keySet.version) },
          details: { rotated: true, kids: result.signingKeys.map((key) => key.kid) },
        }),
    });
    closers.push(() => ring.close());
    await ring.start();

    const readiness: Record<string, () => Promise<void>> = { mongodb: () => pingMongo(mongo) };
    if (redis !== undefined) readiness.redis = () => pingRedis(redis);

    const scrape = metricsRoutes({ registry: metrics.registry, token: config.metrics.token?.reveal(), path: config.routes.metrics });
    const exposure = metricsExposure({ env: config.env, port: config.metrics.port, token: config.metrics.token !== undefined });
    const publicJwks = () => ({ keys: providerJwks(ring.keySet(), new Date(clock.now())).map(publicJwk) });
    // The admin API (routes, zod schemas, OpenAPI document) loads with its first request: most
    // instances never serve one, and building it at startup costs memory and start-up time.
    const admin = loadOnFirstRequest(config.routes.admin, async () => {
      const [{ adminAuth }, { adminRouter }, { adminRoutes }, { createOperations }] = await Promise.all([
        import('./admin/auth.ts'),
        import('./admin/router.ts'),
        import('./admin/routes.ts'),
        import('./operations/index.ts'),
      ]);
      return adminRouter({
        adminUrl: services.adminAudience,
        logger,
        auth: adminAuth({
          issuer: config.issuer,
          audience: services.adminAudience,
          publicJwks,
          findRecord: jwtRecords.findRecord,
          adapter: storage.adapter,
          clients: services.clients,
          accounts: services.accounts,
        }),
        routes: adminRoutes(
          createOperations({
            services,
            issuer: config.issuer,
            status: { readiness, timeoutMs: Math.max(config.mongodbTimeoutMs, config.redisTimeoutMs), settings: async () => effectiveWithRuntime(config, await services.signInSettings.current()) },
            emailConfigured: mail !== undefined,
            keys: { keySet: async () => ring.keySet(), rotate: async () => ({ ...(await ring.rotate()), announced: redis !== undefined }) },
            verification: verificationSender,
            initialAccessTokens: config.registration
              ? async (expiresIn) => {
                  const { InitialAccessToken } = ring.current();
                  return new InitialAccessToken({ expiresIn }).save();
                }
              : undefined,
          }),
        ),
      }).routes();
    });

    // Like the admin API, the account API loads with its first request.
    const accountApi = loadOnFirstRequest(config.routes.accountApi, async () => {
      const [{ accountApi: accountApiRouter }, { accountAuth }, { passkeyTickets }, { ownAccountOperations }] = await Promise.all([
        import('./account/api.ts'),
        import('./account/auth.ts'),
        import('./account/passkey-ticket.ts'),
        import('./operations/own-account.ts'),
      ]);
      return accountApiRouter({
        path: config.routes.accountApi,
        origin: new URL(config.issuer).origin,
        logger,
        now: options.secondFactorClock,
        auth: accountAuth({ provider: () => ring.current(), adapter: storage.adapter, accounts: services.accounts }),
        operations: ownAccountOperations(services, {
          verification: verificationSender,
          issuerName: config.pages.brandName,
          qrSvg: (text) => QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 }),
          mfaPolicy: config.mfa,
          tickets: passkeyTickets(deriveKey(secret, 'account-passkey-challenges'), options.secondFactorClock),
          upstreamLinkUrl: (alias, ticket) => `${new URL(config.publicUrl).origin}${upstreamLinkPath(config.routes, alias)}?${new URLSearchParams({ ticket })}`,
        }),
      }).routes() as Middleware;
    });

    app = createApp({
      issuer: config.issuer,
      routes: config.routes,
      trustProxy: config.trustProxy,
      proxyHops: config.proxyHops,
      cookieKeys: cookieKeyList(ring.keySet(), new Date(clock.now())),
      logger,
      readiness,
      readinessTimeoutMs: Math.max(config.mongodbTimeoutMs, config.redisTimeoutMs),
      provider: () => ring.current(),
      imageSources: config.pages.logoUrl === undefined ? [] : [new URL(config.pages.logoUrl).origin],
      observeRequest: (labels, seconds) => metrics.observeRequest(labels, seconds),
      ...(exposure.on === 'main-port' ? { metrics: scrape } : {}),
      console: consoleRoutes({
        path: config.routes.console,
        issuer: config.issuer,
        adminAudience: services.adminAudience,
        idleTimeoutSeconds: config.console.idleTimeoutSeconds,
        endpoints: {
          authorization: endpointPath(config.routes, 'authorization'),
          token: endpointPath(config.routes, 'token'),
          revocation: endpointPath(config.routes, 'revocation'),
          endSession: endpointPath(config.routes, 'end_session'),
          admin: config.routes.admin,
        },
      }),
      account: accountPage({
        path: config.routes.account,
        issuer: config.issuer,
        endpoints: {
          authorization: endpointPath(config.routes, 'authorization'),
          token: endpointPath(config.routes, 'token'),
          endSession: endpointPath(config.routes, 'end_session'),
          api: config.routes.accountApi,
          webauthn: `${config.routes.assets}/webauthn.js`,
        },
      }),
      accountApi,
      interactions: interactionRoutes({
        provider: () => ring.current(),
        steps,
        views,
        logger,
        secureCookies: https,
        paths: config.routes,
        extraRoutes: [upstream.routes, upstreamSignOut.routes],
      }),
      selfService: new Router().use(
        passwordResetRoutes({
          views,
          logger,
          secureCookies: https,
          path: config.routes.password,
          publicBase: `${new URL(config.publicUrl).origin}${config.routes.password}`,
          accounts: accountLayer.accounts,
          resets,
          settings: async () => {
            const settings = await signIn();
            return { enabled: settings.password_reset, ttlSeconds: settings.password_reset_ttl };
          },
          policy: passwordPolicy,
          mail,
          limits: {
            ip: attempts.limiter('password_reset_ip', PASSWORD_RESET_IP_LIMIT, PASSWORD_RESET_WINDOW),
            login: attempts.limiter('password_reset_login', PASSWORD_RESET_LOGIN_LIMIT, PASSWORD_RESET_WINDOW),
          },
          revokeAll: async (userId) => void (await services.revocation.revokeByAccountId(userId)),
          secondFactor: { factors: services.factors, passkeys: services.passkeys, challengeKey: deriveKey(secret, 'passkey-challenges') },
          audit: (event, ip) =>
            audit.record(
              event.type === 'user.password_reset'
                ? { type: event.type, actor: { type: 'user', id: event.userId }, target: { type: 'user', id: event.userId }, ip, details: { secondFactor: event.secondFactor, lockoutsCleared: event.lockoutsCleared } }
                : { type: event.type, actor: { type: 'anonymous', id: null }, target: { type: 'user', id: event.userId }, ip },
            ),
        }).routes(),
        emailVerificationRoutes({ views, logger, secureCookies: https, path: config.routes.email, verification }).routes(),
      ),
      admin,
      beforeProvider: [
        notFoundPage(views),
        pageExtraRoutes({ views, secureCookies: https }).routes() as Middleware,
        sessionStatusPages(config.routes),
        ...(keycloakLayout ? [openRefreshEnvelopes(config.routes)] : []),
        clientAuthGate(clientAuthFailures, config.routes),
        userCodeGate(userCodeFailures, deviceBlockedPage(views), config.routes),
        jwtRecords.swapStructuredToken({
          issuer: config.issuer,
          publicJwks,
          routes: config.routes,
        }),
        // keycloak-js's loadUserInfo() sends the access token, which Keycloak accepts at userinfo whatever its audience.
        jwtRecords.swapForUserinfo({ issuer: config.issuer, publicJwks, routes: config.routes }, hasKeycloakClaims),
      ],
    });

    const server = createHttpServer(app.callback(), config.connections);
    server.on('clientError', clientErrorHandler(logger));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const localHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const url = `http://${localHost}:${port}`;
    let metricsServer: Server | undefined;
    if (exposure.on === 'metrics-port') {
      const metricsApp = new Koa_();
      metricsApp.use(scrape.routes());
      metricsServer = createHttpServer(metricsApp.callback(), config.connections);
      const listening = metricsServer;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(config.metrics.port, config.host, () => resolve());
      });
    }
    const metricsUrl =
      metricsServer === undefined ? undefined : `http://${localHost}:${(metricsServer.address() as AddressInfo).port}`;

    let closing: Promise<void> | undefined;
    return {
      url,
      metricsUrl,
      metricsLocation: describeMetrics(exposure, { main: url, metrics: metricsUrl }, config.routes.metrics),
      server,
      app,
      metrics,
      audit,
      flushBatchedWrites: async () => void (await Promise.all([audit.flush(), accountLayer.lastLogins.flush(), services.sessionDevices.flush()])),
      services,
      get keySet() {
        return ring.keySet();
      },
      rotateKeys: () => ring.rotate(),
      close() {
        closing ??= (async () => {
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
          const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
          await closed;
          clearTimeout(timer);
          if (metricsServer !== undefined) {
            const stopped = metricsServer;
            await new Promise<void>((resolve) => stopped.close(() => resolve()));
          }
          for (const close of closers.reverse()) await close();
          await closeStores(stores);
        })();
        return closing;
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => {});
    await mongo.close().catch(() => {});
    redis?.disconnect();
    throw error;
  }
}
