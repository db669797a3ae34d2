import type { Registry } from 'prom-client';

/** One label set's buckets: counts per bound (not cumulative), the sum and the count. */
interface Series {
  readonly labels: Readonly<Record<string, string>>;
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

export interface ThreeLabelHistogramOptions extends RequestDurationsOptions {
  /** The three label names, in the order prom-client would list them (the order its caller passed them in). */
  readonly labelNames: readonly [string, string, string];
}

/**
 * A histogram with three labels, observed on hot paths (every HTTP request, every store
 * operation). prom-client's Histogram validates the label set and hashes it (sorting its names,
 * joining a string) on every observation, labelled child or not; this one finds the series in
 * three nested maps (no allocation once a label set was seen) and exports exactly what
 * prom-client's Histogram exports — the same `_bucket` (cumulative, `le` first, `+Inf`), `_sum`
 * and `_count` samples, text and JSON alike, summed across workers — so a scrape cannot tell
 * them apart. Labels are the caller's to bound (fixed sets only: route names, methods, statuses,
 * models, stores, operations).
 */
export class ThreeLabelHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #labelNames: readonly [string, string, string];
  /** first → second → third label → series. */
  #series = new Map<string, Map<string, Map<string | number, Series>>>();

  constructor({ name, help, buckets, registers, labelNames }: ThreeLabelHistogramOptions) {
    this.name = name;
    this.help = help;
    this.#labelNames = labelNames;
    this.#bounds = [...buckets];
    for (let index = 1; index < this.#bounds.length; index += 1) {
      if (!((this.#bounds[index] as number) > (this.#bounds[index - 1] as number))) throw new TypeError('buckets must ascend');
    }
    // prom-client's Registry takes any object with its metrics' name, help, type and get().
    for (const registry of registers) registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  observe(first: string, second: string, third: string | number, seconds: number): void {
    if (!Number.isFinite(seconds)) throw new TypeError(`not a duration: ${seconds}`);
    let bySecond = this.#series.get(first);
    if (bySecond === undefined) this.#series.set(first, (bySecond = new Map()));
    let byThird = bySecond.get(second);
    if (byThird === undefined) bySecond.set(second, (byThird = new Map()));
    let series = byThird.get(third);
    if (series === undefined) {
      const [firstName, secondName, thirdName] = this.#labelNames;
      series = { labels: Object.freeze({ [firstName]: first, [secondName]: second, [thirdName]: String(third) }), counts: new Float64Array(this.#bounds.length), sum: 0, count: 0 };
      byThird.set(third, series);
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
    for (const bySecond of this.#series.values()) {
      for (const byThird of bySecond.values()) {
        for (const series of byThird.values()) {
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

/** The request-duration histogram (labels route, method, status), observed once per HTTP request. */
export class RequestDurations extends ThreeLabelHistogram {
  constructor(options: RequestDurationsOptions) {
    super({ ...options, labelNames: ['route', 'method', 'status'] });
  }

  override observe(route: string, method: string, status: number, seconds: number): void {
    super.observe(route, method, status, seconds);
  }
}
