import type { Registry } from 'prom-client';

/** One label set's buckets: counts per bound (not cumulative), the sum and the count. */
interface Series {
  readonly labels: Readonly<{ route: string; method: string; status: string }>;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A value as prom-client's own metrics export it (what its Registry and AggregatorRegistry read). */
interface ExportedValue {
  readonly labels: Record<string, string | number>;
  readonly sharedLabels?: Readonly<Record<string, string>>;
  readonly value: number;
  readonly metricName: string;
  readonly exemplar?: null;
}

export interface RequestDurationsOptions {
  readonly name: string;
  readonly help: string;
  /** Upper bounds in seconds, ascending. */
  readonly buckets: readonly number[];
  readonly registers: readonly Registry[];
}

/**
 * The request-duration histogram (labels route, method, status), observed once per HTTP
 * request. prom-client's Histogram validates the label set and hashes it (sorting its names,
 * joining a string) on every observation, labelled child or not; this one finds the series in
 * three nested maps (no allocation once a label set was seen) and exports exactly what
 * prom-client's Histogram exports — the same `_bucket` (cumulative, `le` first, `+Inf`), `_sum`
 * and `_count` samples, text and JSON alike, summed across workers — so a scrape cannot tell
 * them apart. Labels are the caller's to bound (fixed sets only: route names, methods, statuses).
 */
export class RequestDurations {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  /** route → method → status → series. */
  #series = new Map<string, Map<string, Map<number, Series>>>();

  constructor({ name, help, buckets, registers }: RequestDurationsOptions) {
    this.name = name;
    this.help = help;
    this.#bounds = [...buckets];
    for (let index = 1; index < this.#bounds.length; index += 1) {
      if (!((this.#bounds[index] as number) > (this.#bounds[index - 1] as number))) throw new TypeError('buckets must ascend');
    }
    // prom-client's Registry takes any object with its metrics' name, help, type and get().
    for (const registry of registers) registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  observe(route: string, method: string, status: number, seconds: number): void {
    if (!Number.isFinite(seconds)) throw new TypeError(`not a duration: ${seconds}`);
    let byMethod = this.#series.get(route);
    if (byMethod === undefined) this.#series.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (series === undefined) {
      series = { labels: Object.freeze({ route, method, status: String(status) }), counts: new Float64Array(this.#bounds.length), sum: 0, count: 0 };
      byStatus.set(status, series);
    }
    series.sum += seconds;
    series.count += 1;
    const bounds = this.#bounds;
    for (let index = 0; index < bounds.length; index += 1) {
      if (seconds <= (bounds[index] as number)) {
        (series.counts[index] as number) += 1;
        break;
      }
    }
  }

  /** As prom-client's Histogram#getForPromString: the series' labels shared, `le` of its own (the Registry's text format reads this). */
  getForPromString(): Promise<{ name: string; help: string; type: string; values: ExportedValue[]; aggregator: string }> {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const byMethod of this.#series.values()) {
      for (const byStatus of byMethod.values()) {
        for (const series of byStatus.values()) {
          let cumulative = 0;
          for (let index = 0; index < this.#bounds.length; index += 1) {
            cumulative += series.counts[index] as number;
            values.push({ labels: { le: this.#bounds[index] as number }, sharedLabels: series.labels, value: cumulative, metricName: bucket, exemplar: null });
          }
          values.push({ labels: { le: '+Inf' }, sharedLabels: series.labels, value: series.count, metricName: bucket, exemplar: null });
          values.push({ labels: {}, sharedLabels: series.labels, value: series.sum, metricName: `${this.name}_sum` });
          values.push({ labels: {}, sharedLabels: series.labels, value: series.count, metricName: `${this.name}_count` });
        }
      }
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** As prom-client's Histogram#get: each sample's labels with the series' labels folded in (what getMetricsAsJSON and the workers' aggregation read). */
  async get(): Promise<{ name: string; help: string; type: string; values: ExportedValue[]; aggregator: string }> {
    const data = await this.getForPromString();
    return { ...data, values: data.values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } })) };
  }

  reset(): void {
    this.#series = new Map();
  }
}
