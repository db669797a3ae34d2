#!/usr/bin/env node
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from './config/load.ts';
import { shown } from './errors/shown-text.ts';
import { createLogger } from './observability/logger.ts';
import { withCheckedSettings } from './settings/configured-check.ts';

/** sysexits.h EX_CONFIG: the configuration is wrong; restarting will not help. */
const EXIT_CONFIG = 78;

/** Each line as one line: what a message quotes of input cannot drive the terminal or forge a line. */
function fail(lines: readonly string[], code: number): never {
  for (const line of lines) process.stderr.write(`gatehouse: ${shown(line, Infinity)}\n`);
  process.exit(code);
}

let config: Config;
try {
  config = withCheckedSettings(loadConfig({ env: process.env, readFile: (path) => readFileSync(path, 'utf8') }));
} catch (error) {
  if (error instanceof ConfigError) fail(error.problems, EXIT_CONFIG);
  throw error;
}

// GATEHOUSE_WORKERS > 1: this process only supervises (src/cluster/); each worker runs serve().
if (config.workers > 1 && cluster.isPrimary) {
  const { runSupervisor } = await import('./cluster/primary.ts');
  const logger = createLogger(config.logLevel, undefined, { worker: 0 });
  warnMisspelled(config, logger);
  await portsFree(config);
  runSupervisor(config, logger);
} else {
  await serve(config);
}

/**
 * With workers, a port in use stops the supervisor before any worker is forked: a worker binds
 * only once it can serve (src/server.ts), after its start has written what a start writes.
 */
async function portsFree(config: Config): Promise<void> {
  const [{ bindPorts }, { StartupError }] = await Promise.all([import('./http/bind-ports.ts'), import('./errors/startup-error.ts')]);
  try {
    await (await bindPorts(config)).abandon();
  } catch (error) {
    if (error instanceof StartupError) fail([error.message], 1);
    throw error;
  }
}

/** A variable that looks like a setting but is none is ignored: said before anything else starts. */
function warnMisspelled(config: Config, logger: ReturnType<typeof createLogger>): void {
  for (const notice of config.notices) logger.warn(notice);
}

async function serve(config: Config): Promise<void> {
  const workerId = cluster.worker?.id;
  const logger = createLogger(config.logLevel, undefined, workerId === undefined ? {} : { worker: workerId });
  // Said once per instance: by the supervisor with workers, else here.
  if (workerId === undefined) warnMisspelled(config, logger);
  // A stray rejection (a listener, a timer) is logged, never allowed to take the process down;
  // an uncaught exception leaves the process in an unknown state, so it is logged and exits.
  process.on('unhandledRejection', (reason: unknown) => {
    logger.error({ err: reason }, 'unhandled promise rejection');
  });
  process.on('uncaughtException', (error: Error) => {
    logger.fatal({ err: error }, 'uncaught exception; exiting');
    process.exit(1);
  });
  // Loaded only after the configuration is known to be good, so a bad one fails in milliseconds.
  const { KeyStoreError } = await import('./keys/key-store.ts');
  const { startGatehouse, StartupError } = await import('./server.ts');
  const { workerLink } = await import('./cluster/worker-link.ts');
  const link = workerId === undefined ? undefined : workerLink({ send: (message) => process.send?.(message), on: (event, listener) => process.on(event, listener) });

  try {
    const running = await startGatehouse(config, logger, link === undefined ? {} : { scrapeMetrics: () => link.scrape() });

    let shuttingDown = false;
    const shutdown = (signal: string) => {
      // Ctrl-C under `node --watch` (npm run dev) arrives twice: from the terminal and from the
      // watcher (with workers: from the terminal and the supervisor). Shutdown is already bounded
      // by GATEHOUSE_SHUTDOWN_TIMEOUT; a repeat must not cut it short.
      if (shuttingDown) return;
      shuttingDown = true;
      logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
      running.close().then(
        () => {
          logger.info('shutdown complete');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    // Before "ready" is announced: whoever waits for that line (a supervisor, npm run dev's
    // Ctrl-C, a test) may signal at once, and until a handler is installed a signal takes Node's
    // default action and kills the process without draining. (The log line is written from
    // libuv's thread pool, so it can be read before the next statement here has run.)
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    const ready = { issuer: config.issuer, listening: running.listening, env: config.env, metrics: running.metricsLocation };
    if (link === undefined) {
      logger.info(ready, 'gatehouse ready');
    } else {
      // The supervisor says "gatehouse ready" once every worker is.
      link.serveMetrics(running.metrics.registry);
      logger.info(ready, 'worker ready');
      link.ready(ready);
    }
  } catch (error) {
    if (error instanceof KeyStoreError) fail([error.message], EXIT_CONFIG);
    if (error instanceof StartupError) fail([error.message], 1);
    logger.fatal({ err: error }, 'startup failed');
    fail(['startup failed; see the log line above'], 1);
  }
}
