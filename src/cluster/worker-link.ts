import { AggregatorRegistry, type Registry } from 'prom-client';
import { isPrimaryMessage, type PrimaryMessage, type WorkerMessage } from './messages.ts';
import type { WorkerReady } from './supervisor.ts';

/** The IPC channel to the supervisor: `process` in a cluster worker. */
export interface Channel {
  send(message: WorkerMessage): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

export interface WorkerLink {
  /** Tells the supervisor this worker serves (it logs "gatehouse ready" once all do). */
  ready(info: WorkerReady): void;
  /** Answers the supervisor's requests for this worker's metrics from now on. */
  serveMetrics(registry: Registry): void;
  /** The whole instance's metrics (every worker's, aggregated by the supervisor). */
  scrape(): Promise<string>;
}

/** How long a worker waits for the supervisor's aggregated metrics (which waits SCRAPE_TIMEOUT_MS for the workers). */
export const WORKER_SCRAPE_TIMEOUT_MS = 6_000;

/** A worker's side of GATEHOUSE_WORKERS' channel (the supervisor's is src/cluster/primary.ts). */
export function workerLink(channel: Channel, timeoutMs = WORKER_SCRAPE_TIMEOUT_MS): WorkerLink {
  let registry: Registry | undefined;
  let nextId = 0;
  const scrapes = new Map<number, (answer: Extract<PrimaryMessage, { gatehouse: 'scraped' }>) => void>();
  channel.on('message', (message) => {
    if (!isPrimaryMessage(message)) return;
    if (message.gatehouse === 'scraped') return scrapes.get(message.id)?.(message);
    const { id } = message;
    if (registry === undefined) return void channel.send({ gatehouse: 'collected', id, error: 'not serving yet' });
    registry.getMetricsAsJSON().then(
      (metrics) => channel.send({ gatehouse: 'collected', id, metrics }),
      (error: unknown) => channel.send({ gatehouse: 'collected', id, error: String(error) }),
    );
  });
  return {
    ready: (info) => void channel.send({ gatehouse: 'ready', info }),
    serveMetrics(served) {
      registry = served;
    },
    scrape() {
      const id = nextId++;
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          scrapes.delete(id);
          reject(new Error(`the supervisor did not answer a metrics scrape within ${timeoutMs} ms`));
        }, timeoutMs);
        scrapes.set(id, (answer) => {
          clearTimeout(timer);
          scrapes.delete(id);
          if (answer.metrics === undefined) reject(new Error(answer.error ?? 'no metrics'));
          // prom-client's cluster aggregation: counters and histograms summed, each default metric by its own rule.
          else AggregatorRegistry.aggregate(answer.metrics).metrics().then(resolve, reject);
        });
        channel.send({ gatehouse: 'scrape', id });
      });
    },
  };
}
