import cluster, { type Worker } from 'node:cluster';
import { systemClock, type ClockTimer } from '../clock.ts';
import type { Config } from '../config/load.ts';
import type { Logger } from '../observability/logger.ts';
import { isWorkerMessage } from './messages.ts';
import { metricsRelay } from './metrics-relay.ts';
import { createSupervisor } from './supervisor.ts';

/** How long the supervisor waits for the workers' metrics; a worker's own wait is a little longer. */
export const SCRAPE_TIMEOUT_MS = 5_000;

/** A real timer that keeps the supervisor alive while it waits (to replace a worker, to stop). */
function schedule(ms: number, run: () => void): ClockTimer {
  const timer = setTimeout(run, ms);
  return { cancel: () => clearTimeout(timer) };
}

/**
 * GATEHOUSE_WORKERS > 1: this process is the supervisor (src/cluster/supervisor.ts) on
 * node:cluster. It opens no store connection and serves nothing itself; the workers share the
 * listening ports (each accepts from the shared socket) and it relays their metrics to whichever
 * worker a scrape reached.
 */
export function runSupervisor(config: Config, logger: Logger): void {
  // The workers accept connections themselves from the one listening socket (SCHED_NONE), instead
  // of node:cluster's default round-robin, where this process accepts each connection and passes
  // it to a worker: a connection passed to a worker that dies before taking it is lost (the client
  // hangs until its own timeout; test/integration/workers.test.ts), and under CPU contention every
  // new connection also waited for this process to be scheduled. A connection no worker has taken
  // yet now stays in the kernel's queue for whichever worker is free. Must be set before the first
  // fork (node:cluster freezes it then). An operator's explicit NODE_CLUSTER_SCHED_POLICY=rr wins.
  cluster.schedulingPolicy = config.clusterSchedulingPolicy === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
  const handles = new Map<number, Worker>();
  const supervisor = createSupervisor({
    workers: config.workers,
    spawner: {
      fork() {
        const worker = cluster.fork();
        handles.set(worker.id, worker);
        return { id: worker.id, pid: worker.process.pid, signal: (signal) => void worker.process.kill(signal) };
      },
    },
    clock: systemClock,
    schedule,
    logger,
    onReady: ({ issuer, listening, env, metrics, workers }) => logger.info({ issuer, listening, env, metrics, workers }, 'gatehouse ready'),
    exit: (code) => {
      logger.info({ exitCode: code }, code === 0 ? 'shutdown complete' : 'stopped');
      process.exit(code);
    },
    shutdownTimeoutMs: config.shutdownTimeoutMs,
  });
  const relay = metricsRelay({
    workers: () => supervisor.readyWorkers().map(({ id }) => ({ id, send: (message) => void handles.get(id)?.send(message) })),
    timeoutMs: SCRAPE_TIMEOUT_MS,
    schedule,
  });
  cluster.on('message', (worker, message: unknown) => {
    if (!isWorkerMessage(message)) return;
    if (message.gatehouse === 'ready') supervisor.ready({ id: worker.id, signal: () => {} }, message.info);
    else if (message.gatehouse === 'collected') relay.collected(worker.id, message.id, message.metrics, message.error);
    else {
      relay.scrape().then(
        (metrics) => worker.isConnected() && worker.send({ gatehouse: 'scraped', id: message.id, metrics }),
        (error: unknown) => {
          logger.warn({ err: error }, 'metrics scrape failed');
          if (worker.isConnected()) worker.send({ gatehouse: 'scraped', id: message.id, error: String(error) });
        },
      );
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    handles.delete(worker.id);
    relay.gone(worker.id);
    supervisor.exited({ id: worker.id, signal: () => {} }, code, signal);
  });
  // The supervisor's own fault ends it; its workers exit as their channel to it closes (node:cluster).
  process.on('uncaughtException', (error: Error) => {
    logger.fatal({ err: error }, 'supervisor: uncaught exception; exiting');
    process.exit(1);
  });
  process.on('SIGTERM', () => supervisor.stop('SIGTERM'));
  process.on('SIGINT', () => supervisor.stop('SIGINT'));
  supervisor.start();
}
