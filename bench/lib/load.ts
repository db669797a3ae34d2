import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';

/** What one server gets asked, request after request. */
export interface RequestSpec {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** A fresh body per request (single-use tokens); undefined when the pool is empty. */
  readonly nextBody?: () => string | undefined;
  /** How many fresh bodies are left; the run stops before the pool runs dry. */
  readonly remaining?: () => number;
  /** Sees every answer (a rotation's answer carries the next single-use token). */
  readonly onResponse?: (status: number, body: string) => void;
  /** The pool refills itself from the answers (onResponse): no share of it is reserved per segment. */
  readonly refills?: boolean;
}

/**
 * One request of `spec` through fetch before a measurement, checked for the answer a real client
 * needs (status 200 and `accept` of the JSON body): the problem in words, or undefined.
 */
export async function preflight(url: string, spec: RequestSpec, accept: (body: Record<string, unknown>) => boolean): Promise<string | undefined> {
  const body = spec.nextBody?.() ?? spec.body;
  const response = await fetch(`${url}${spec.path}`, { method: spec.method, headers: spec.headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // reported below
  }
  return response.status === 200 && accept(parsed) ? undefined : `${spec.method} ${spec.path} → ${response.status} ${text.slice(0, 300)}`;
}

/**
 * A refresh-token pool that refills itself: each rotation's answer carries the successor, which
 * goes back into the pool, so the pool lasts however fast the server rotates (a pool minted up
 * front ran out on a fast server before the time was up). Each pooled token is the head of its
 * own chain, like a client that refreshes again with the token it just got. A token lost to an
 * error is not replaced: the pool runs out only if errors do.
 */
export function refreshTokenChains(pool: string[], toBody: (token: string) => string): Pick<RequestSpec, 'nextBody' | 'remaining' | 'onResponse' | 'refills'> {
  return {
    nextBody: () => {
      const token = pool.pop();
      return token === undefined ? undefined : toBody(token);
    },
    remaining: () => pool.length,
    onResponse: (status, body) => {
      if (status !== 200) return;
      try {
        const successor = (JSON.parse(body) as { refresh_token?: unknown }).refresh_token;
        if (typeof successor === 'string') pool.unshift(successor);
      } catch {
        // not JSON: counted as whatever autocannon counted it as
      }
    },
    refills: true,
  };
}

export interface Target {
  readonly key: string;
  readonly url: string;
  readonly spec: RequestSpec;
}

export interface LoadOptions {
  readonly warmupSeconds: number;
  readonly seconds: number;
  readonly connections: number;
}

export interface Measured {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** True when a single-use token pool ran out before the time was up. */
  readonly poolExhausted: boolean;
}

/** One bounded autocannon run against one server; with `rate`, at most that many requests per second (all connections together). */
export function runOnce(target: Target, seconds: number, connections: number, maxBodies = Infinity, rate?: number): Promise<AutocannonResult & { exhausted: boolean }> {
  const { spec } = target;
  let exhausted = false;
  let used = 0;
  if ((spec.remaining?.() ?? Infinity) <= connections * 2) {
    // The pool is already spent: skip the segment instead of sending requests without a token.
    const none = { average: 0, p50: 0, p99: 0, max: 0 };
    return Promise.resolve({ requests: { ...none, total: 0 }, latency: none, errors: 0, timeouts: 0, non2xx: 0, duration: 0, '2xx': 0, exhausted: true });
  }
  return new Promise((resolve, reject) => {
    const request: AutocannonRequest = { method: spec.method, path: spec.path, headers: spec.headers };
    if (spec.body !== undefined) request.body = spec.body;
    if (spec.onResponse !== undefined) request.onResponse = spec.onResponse;
    if (spec.nextBody !== undefined) {
      request.setupRequest = (req) => {
        if (!exhausted && ((spec.remaining?.() ?? Infinity) <= connections * 2 || used >= maxBodies)) {
          exhausted = true;
          setImmediate(() => instance.stop());
        }
        used += 1;
        return { ...req, body: spec.nextBody!() ?? '' };
      };
    }
    const instance = autocannon(
      { url: target.url, connections, pipelining: 1, duration: seconds, timeout: 10, requests: [request], ...(rate === undefined ? {} : { overallRate: rate }) },
      (error, result) => (error === null ? resolve({ ...result, exhausted }) : reject(error)),
    );
  });
}

function merge(results: ReadonlyArray<AutocannonResult & { exhausted: boolean }>): Measured {
  const requests = results.reduce((sum, result) => sum + result.requests.total, 0);
  const seconds = results.reduce((sum, result) => sum + result.duration, 0);
  const weighted = results.reduce((sum, result) => sum + result.latency.p50 * result.requests.total, 0);
  return {
    requests,
    seconds,
    rps: seconds > 0 ? requests / seconds : 0,
    p50Ms: requests > 0 ? weighted / requests : Number.NaN,
    // The worse of the segments: a conservative p99 without merging histograms.
    p99Ms: Math.max(...results.filter((result) => result.requests.total > 0).map((result) => result.latency.p99)),
    errors: results.reduce((sum, result) => sum + result.errors + result.timeouts + result.non2xx, 0),
    poolExhausted: results.some((result) => result.exhausted),
  };
}

/**
 * Warms every server up, then measures them in an A B B A order (A B C C B A for three), half
 * of the time in each segment, so drift on the shared machine affects all of them alike.
 */
export async function measureAlternating(targets: readonly Target[], options: LoadOptions): Promise<Record<string, Measured>> {
  // Single-use pools (refresh tokens): the warm-up may spend a tenth of the pool, the first
  // segment half of what is left, so a fast server still has tokens for its second segment.
  const budget = (target: Target, share: number) => (target.spec.refills === true ? Infinity : Math.floor((target.spec.remaining?.() ?? Infinity) * share));
  for (const target of targets) if (options.warmupSeconds > 0) await runOnce(target, options.warmupSeconds, options.connections, budget(target, 0.1));
  const segments = new Map<string, Array<AutocannonResult & { exhausted: boolean }>>();
  for (const target of [...targets, ...[...targets].reverse()]) {
    const first = !segments.has(target.key);
    const result = await runOnce(target, Math.max(1, options.seconds / 2), options.connections, budget(target, first ? 0.5 : 1));
    segments.set(target.key, [...(segments.get(target.key) ?? []), result]);
  }
  return Object.fromEntries([...segments].map(([key, results]) => [key, merge(results)]));
}
