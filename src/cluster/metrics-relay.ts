import type { ClockTimer } from '../clock.ts';
import type { MetricsJson, PrimaryMessage } from './messages.ts';

/** A ready worker the relay can ask. */
export interface RelayWorker {
  readonly id: number;
  send(message: PrimaryMessage): void;
}

export interface MetricsRelay {
  /** Every ready worker's metrics, for the asking worker to add up (src/cluster/worker-link.ts). */
  scrape(): Promise<MetricsJson[]>;
  /** A worker's answer to `collect`. */
  collected(workerId: number, id: number, metrics: MetricsJson | undefined, error: string | undefined): void;
  /** A worker ended: whatever waited on its answer fails now rather than at the timeout. */
  gone(workerId: number): void;
}

/**
 * The supervisor's side of /metrics with GATEHOUSE_WORKERS: a scrape reaches one worker (the
 * port is shared), which asks here; the relay asks every ready worker for its registry as JSON
 * and hands the lot back to the asking worker, which adds them up (prom-client's
 * AggregatorRegistry there: the supervisor does not load prom-client, which is most of what it
 * would hold besides Node itself). A worker that does not answer in time fails the scrape (the
 * worker answers 503): a partial sum would look like a counter reset.
 */
export function metricsRelay({ workers, timeoutMs, schedule }: { workers: () => readonly RelayWorker[]; timeoutMs: number; schedule: (ms: number, run: () => void) => ClockTimer }): MetricsRelay {
  let nextId = 0;
  const pending = new Map<number, { waiting: Set<number>; results: MetricsJson[]; fail(error: Error): void; succeed(): void }>();
  return {
    scrape() {
      const id = nextId++;
      const asked = workers();
      return new Promise<MetricsJson[]>((resolve, reject) => {
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
            resolve(request.results);
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
