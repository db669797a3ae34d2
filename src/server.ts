import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { createApp } from './app.ts';
import { monotonicNow, systemClock } from './clock.ts';
import type { Config } from './config/load.ts';
import { clientErrorHandler } from './http/client-error.ts';
import { requestEdge, type EdgeOptions } from './http/edge.ts';
import { bindPorts } from './http/bind-ports.ts';
import { cookieKeyList, type KeySet, type RotationResult } from './keys/key-store.ts';
import type { AuditTrail } from './observability/audit-trail.ts';
import type { Logger } from './observability/logger.ts';
import { describeMetrics } from './observability/metrics-exposure.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { backchannelLogouts } from './oidc/session-logout.ts';
import type { GatehouseServices } from './services.ts';
import { composeAccount, prepareAccount } from './composition/account.ts';
import { adminApi, prepareAdmin } from './composition/admin.ts';
import { composeConsole, prepareConsole } from './composition/console.ts';
import { closeStores, composeCore, openStores, StartupError } from './composition/core.ts';
import { openLimits } from './composition/limits.ts';
import { boundUrl, composeObservability, localUrl, startIdleCollection } from './composition/observability.ts';
import { openMail, openViews } from './composition/pages.ts';
import { startProvider } from './composition/provider.ts';
import { composeSelfService } from './composition/self-service.ts';
import { composeSignInSteps, signInRoutes } from './composition/sign-in.ts';
import { composeUpstream } from './composition/upstream.ts';
import { closeList, type StartOptions, type Wiring } from './composition/wiring.ts';
import { cookieSigner } from './http/cookie-signer.ts';

export type { GatehouseServices, StartOptions };
export { StartupError };

export interface RunningGatehouse {
  /** A local URL that reaches this server (127.0.0.1 when it listens on every address). */
  readonly url: string;
  /** The address it is bound to, as a URL: `http://0.0.0.0:3000` when it listens on every IPv4 address. */
  readonly listening: string;
  /** Where /metrics is served when GATEHOUSE_METRICS_PORT is set. */
  readonly metricsUrl: string | undefined;
  /** Where /metrics is (at its bound address), in words for the startup log. */
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

/**
 * Wires everything from a validated config and starts listening: the domain (composition/core.ts,
 * shared with the CLI), then each feature's composition module (src/composition/), then the Koa
 * app and the HTTP server.
 */
export async function startGatehouse(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningGatehouse> {
  const clock = options.clock ?? systemClock;
  // The ports first: one in use stops startup (naming PORT or GATEHOUSE_METRICS_PORT) before
  // anything is opened or written; what arrives meanwhile waits for the app (held-server.ts). A
  // worker (GATEHOUSE_WORKERS) binds last instead, once it can serve: the supervisor checked the
  // ports before forking (src/main.ts), and a worker replacing one that died must not take
  // connections off the shared socket that the others would serve at once.
  const portsFirst = !cluster.isWorker;
  // /healthz and /readyz answer at once while the stores come up (held-server.ts): alive, not ready.
  const holding = { prepare: (server: Server) => void server.on('clientError', clientErrorHandler(logger)), clock, probes: { healthz: config.routes.healthz, readyz: config.routes.readyz } };
  let ports = portsFirst ? await bindPorts(config, holding) : undefined;
  let stores: Awaited<ReturnType<typeof openStores>>;
  try {
    stores = await openStores(config, options.onStoreCommand);
  } catch (error) {
    await ports?.abandon();
    throw error;
  }
  const closers = closeList();
  try {
    const metrics = createMetrics();
    closers.add(startIdleCollection(logger, metrics));
    let ring: { current(): Provider } | undefined;
    const logouts = backchannelLogouts(() => ring?.current(), logger);
    const core = await composeCore(config, logger, stores, {
      mode: 'server',
      metrics,
      clock,
      secondFactorClock: options.secondFactorClock,
      sessionEnded: logouts.sessionEnded,
    });
    closers.add(() => core.close());
    // Before the stores close: the logouts of sessions ended just before shutdown still go out (each within its deadline).
    closers.add(() => logouts.settled());
    const w: Wiring = {
      config,
      logger,
      options,
      clock,
      stopwatch: options.storeClock ?? monotonicNow,
      core,
      metrics,
      secret: config.secret.reveal(),
      https: new URL(config.issuer).protocol === 'https:',
      issuerOrigin: new URL(config.issuer).origin,
      publicOrigin: new URL(config.publicUrl).origin,
      provider: () => ring!.current(),
      onClose: closers.add,
    };
    const observability = composeObservability(w);

    const views = openViews(w);
    const mail = openMail(w, views);
    const limits = await openLimits(w);
    const selfService = await composeSelfService(w, { views, mail, limits });
    const upstream = composeUpstream(w, { views });
    const steps = composeSignInSteps(w, { selfService, loginExtension: upstream.extension });
    let app: Koa | undefined;
    const edgeOptions: EdgeOptions = {
      issuer: config.issuer,
      routes: config.routes,
      logger,
      observeRequest: (labels, seconds) => metrics.observeRequest(labels, seconds),
      imageSources: config.pages.logoUrl === undefined ? [] : [new URL(config.pages.logoUrl).origin],
      stopwatch: w.stopwatch,
    };
    const edge = requestEdge(edgeOptions);
    const oidc = await startProvider(w, {
      // The OAuth endpoints handed straight to the provider: JSON answers, one and all.
      edge: requestEdge({ ...edgeOptions, serves: 'oauth-endpoints' }),
      views,
      selfService,
      steps,
      limits,
      afterResponse: [upstream.signOut],
      onSwap: (keySet, now) => {
        if (app !== undefined) app.keys = cookieSigner(cookieKeyList(keySet, now));
      },
    });
    ring = oidc.ring;

    const consoleApp = composeConsole(w);
    const { account, accountApi, page: accountPage } = composeAccount(w, { selfService, oidc });
    // Every browser module read (and, from src/, compiled) before the server listens: the first
    // page load must not wait for the TypeScript compiler (src/browser-app/modules.ts).
    await consoleApp.prepare();
    await accountPage.prepare();
    // Only now, every check that can stop startup done (the stored keys opened with GATEHOUSE_SECRET,
    // the provider built, the browser modules read): the bootstrap administrator, the admin API's
    // audience and the built-in clients. A start refused for a bad setting writes none of them.
    await prepareAdmin(w);
    await prepareConsole(w);
    await prepareAccount(w);
    const gatehouseApp = createApp({
      issuer: config.issuer,
      routes: config.routes,
      trustProxy: config.trustProxy,
      proxyHops: config.proxyHops,
      cookieKeys: cookieKeyList(oidc.ring.keySet(), new Date(clock.now())),
      logger,
      edge,
      readiness: observability.readiness,
      readinessTimeoutMs: observability.readinessTimeoutMs,
      provider: w.provider,
      ...(observability.exposure.on === 'main-port' ? { metrics: observability.scrape } : {}),
      console: consoleApp,
      account,
      accountApi,
      interactions: signInRoutes(w, { steps, views, extraRoutes: upstream.routes }),
      selfService: selfService.routes,
      admin: adminApi(w, { oidc, observability, selfService }),
      pagesBeforeProvider: oidc.pagesBeforeProvider,
      beforeProvider: oidc.beforeProvider,
    });

    app = gatehouseApp.koa;
    ports ??= await bindPorts(config, holding);
    const server = ports.main.server;
    const { unavailable } = ports.main.serve(gatehouseApp.listener);
    // Requests that came before the stores were up and were told to retry (503 + Retry-After).
    if (unavailable > 0) logger.warn({ requests: unavailable }, `answered ${unavailable} ${unavailable === 1 ? 'request' : 'requests'} 503 while starting (Retry-After): a start this slow wants its stores checked`);
    const metricsListener = observability.metricsListener();
    if (metricsListener !== undefined) ports.metrics?.serve(metricsListener);
    const url = localUrl(server, config.host);
    const metricsServer = ports.metrics?.server;
    const metricsUrl = metricsServer === undefined ? undefined : localUrl(metricsServer, config.host);

    let closing: Promise<void> | undefined;
    const { services, audit, accountLayer } = core;
    return {
      url,
      metricsUrl,
      listening: boundUrl(server),
      metricsLocation: describeMetrics(observability.exposure, { main: boundUrl(server), metrics: metricsServer === undefined ? undefined : boundUrl(metricsServer) }, config.routes.metrics),
      server,
      app,
      metrics,
      audit,
      flushBatchedWrites: async () => void (await Promise.all([audit.flush(), accountLayer.lastLogins.flush(), services.sessionDevices.flush()])),
      services,
      get keySet() {
        return oidc.ring.keySet();
      },
      rotateKeys: () => oidc.ring.rotate(),
      close() {
        closing ??= (async () => {
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
          const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
          await closed;
          clearTimeout(timer);
          if (metricsServer !== undefined) await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
          await closers.run();
          await closeStores(stores);
        })();
        return closing;
      },
    };
  } catch (error) {
    await ports?.abandon();
    await closers.run(true);
    await stores.mongo.close().catch(() => {});
    stores.redis?.disconnect();
    throw error;
  }
}
