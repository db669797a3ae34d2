import { AggregatorRegistry } from 'prom-client';
import type { ClockTimer } from '../clock.ts';
import type { MetricsJson, PrimaryMessage } from './messages.ts';

/** A ready worker the relay can ask. */
export interface RelayWorker {
  readonly id: number;
  send(message: PrimaryMessage): void;
}

export interface MetricsRelay {
  /** The whole instance's metrics in Prometheus text: every ready worker's, summed (prom-client's cluster aggregation). */
  scrape(): Promise<string>;
  /** A worker's answer to `collect`. */
  collected(workerId: number, id: number, metrics: MetricsJson | undefined, error: string | undefined): void;
  /** A worker ended: whatever waited on its answer fails now rather than at the timeout. */
  gone(workerId: number): void;
}

/**
 * The supervisor's side of /metrics with GATEHOUSE_WORKERS: a scrape reaches one worker (the
 * port is shared), which asks here; the relay asks every ready worker for its registry as JSON
 * and adds them up with prom-client's AggregatorRegistry.aggregate (counters and histograms
 * summed; each default metric by its own rule). A worker that does not answer in time fails the
 * scrape (the worker answers 503): a partial sum would look like a counter reset.
 */
export function metricsRelay({ workers, timeoutMs, schedule }: { workers: () => readonly RelayWorker[]; timeoutMs: number; schedule: (ms: number, run: () => void) => ClockTimer }): MetricsRelay {
  let nextId = 0;
  const pending = new Map<number, { waiting: Set<number>; results: MetricsJson[]; fail(error: Error): void; succeed(): void }>();
  return {
    scrape() {
      const id = nextId++;
      const asked = workers();
      return new Promise<string>((resolve, reject) => {
        const timer = schedule(timeoutMs, () => request.fail(new Error(`workers ${[...request.waiting].join(', ')} did not report their metrics within ${timeoutMs} ms`)));
        const request = {
          waiting: new Set(asked.map((worker) => worker.id)),
          results: [] as MetricsJson[],
          fail(error: Error) {
            timer.cancel();
            pending.delete(id);
            reject(error);
          },
          succeed() {
            timer.cancel();
            pending.delete(id);
            AggregatorRegistry.aggregate(request.results).metrics().then(resolve, reject);
          },
        };
        pending.set(id, request);
        if (asked.length === 0) request.succeed();
        for (const worker of asked) worker.send({ gatehouse: 'collect', id });
      });
    },
    collected(workerId, id, metrics, error) {
      const request = pending.get(id);
      if (request === undefined || !request.waiting.delete(workerId)) return;
      if (metrics === undefined) return request.fail(new Error(`worker ${workerId}: ${error ?? 'no metrics'}`));
      request.results.push(metrics);
      if (request.waiting.size === 0) request.succeed();
    },
    gone(workerId) {
      for (const request of pending.values()) {
        if (request.waiting.has(workerId)) request.fail(new Error(`worker ${workerId} ended during the scrape`));
      }
    },
  };
}
