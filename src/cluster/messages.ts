import type { WorkerReady } from './supervisor.ts';

/** A worker's metrics as prom-client's getMetricsAsJSON() gives them (what its aggregate() takes). */
export type MetricsJson = object[];

/**
 * What the supervisor and its workers say over the cluster's IPC channel. Every message carries
 * `gatehouse` so that nothing else on the channel (node:cluster's own) is mistaken for one.
 */
export type WorkerMessage =
  | { readonly gatehouse: 'ready'; readonly info: WorkerReady }
  /** A scrape of /metrics reached this worker: it asks for the whole instance's. */
  | { readonly gatehouse: 'scrape'; readonly id: number }
  /** This worker's own metrics, asked for by `collect`. */
  | { readonly gatehouse: 'collected'; readonly id: number; readonly metrics?: MetricsJson; readonly error?: string };

export type PrimaryMessage =
  | { readonly gatehouse: 'collect'; readonly id: number }
  /** Every ready worker's metrics (the asking worker adds them up), or why not. */
  | { readonly gatehouse: 'scraped'; readonly id: number; readonly metrics?: MetricsJson[]; readonly error?: string };

function isObject(message: unknown): message is Record<string, unknown> {
  return typeof message === 'object' && message !== null;
}

export function isWorkerMessage(message: unknown): message is WorkerMessage {
  return isObject(message) && (message.gatehouse === 'ready' || message.gatehouse === 'scrape' || message.gatehouse === 'collected');
}

export function isPrimaryMessage(message: unknown): message is PrimaryMessage {
  return isObject(message) && (message.gatehouse === 'collect' || message.gatehouse === 'scraped') && typeof message.id === 'number';
}
