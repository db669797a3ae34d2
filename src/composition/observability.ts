import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { startIdleCollector } from '../observability/idle-collector.ts';
import { metricsExposure, type MetricsExposure } from '../observability/metrics-exposure.ts';
import { metricsRoutes } from '../observability/metrics-routes.ts';
import { pingMongo } from '../storage/mongo.ts';
import { pingRedis } from '../storage/redis.ts';
import type { Wiring } from './wiring.ts';

/** Memory taken by a burst of traffic comes back once it has passed (idle-collector.ts); returns its stop. */
export function startIdleCollection(logger: Logger, metrics: Metrics): () => Promise<void> {
  const idleCollector = startIdleCollector({
    onCollect: (ms) => {
      metrics.idleCollection(ms);
      logger.debug({ ms }, 'idle: memory given back');
    },
  });
  return async () => idleCollector.stop();
}

export interface Observability {
  /** /readyz: one check per store. */
  readonly readiness: Record<string, () => Promise<void>>;
  readonly readinessTimeoutMs: number;
  /** Where /metrics is served (main port, own port, or not at all). */
  readonly exposure: MetricsExposure;
  /** The /metrics routes. */
  readonly scrape: ReturnType<typeof metricsRoutes>;
  /** What serves the metrics port when /metrics has one (GATEHOUSE_METRICS_PORT; bound by src/http/bind-ports.ts). */
  metricsListener(): RequestListener | undefined;
}

/** Readiness checks, metrics of the hashing pool and where /metrics is served. */
export function composeObservability({ config, core, metrics, logger, options }: Wiring): Observability {
  const { mongo, redis } = core.stores;
  if (!core.storage.ttlIndexes) {
    // Expected on FerretDB v1; everything that expires (oidc records, sign-in limits, audit) is swept.
    logger.info('MongoDB server has no TTL indexes (FerretDB): expired records are deleted by periodic sweepers');
  }
  metrics.watchHashPool(() => core.accountLayer.hasher.stats());
  const readiness: Record<string, () => Promise<void>> = { mongodb: () => pingMongo(mongo) };
  if (redis !== undefined) readiness.redis = () => pingRedis(redis);
  const scrape = metricsRoutes({ registry: metrics.registry, token: config.metrics.token?.reveal(), path: config.routes.metrics, ...(options.scrapeMetrics === undefined ? {} : { render: options.scrapeMetrics }) });
  const exposure = metricsExposure({ env: config.env, port: config.metrics.port, token: config.metrics.token !== undefined });
  return {
    readiness,
    readinessTimeoutMs: Math.max(config.mongodbTimeoutMs, config.redisTimeoutMs),
    exposure,
    scrape,
    metricsListener() {
      if (exposure.on !== 'metrics-port') return undefined;
      const metricsApp = new Koa();
      metricsApp.use(scrape.routes());
      return metricsApp.callback();
    },
  };
}

/**
 * The address a listening server is bound to, as a URL (`http://0.0.0.0:3000`, `http://[::]:3000`):
 * what the startup log names, so that an operator sees a server open on every address as such.
 */
export function boundUrl(server: Server): string {
  const { address, family, port } = server.address() as AddressInfo;
  return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
}

/** The local URL of a listening server (127.0.0.1 for a wildcard host). */
export function localUrl(server: Server, host: string): string {
  const localHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${localHost}:${(server.address() as AddressInfo).port}`;
}
