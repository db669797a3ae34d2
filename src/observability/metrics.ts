import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LIMITER_NAMES } from './limiter-names.ts';
import { DORMANT_MONITOR_MS, replaceEventLoopLag } from './event-loop-lag.ts';
import { RequestDurations, ThreeLabelHistogram } from './request-durations.ts';

/*
 * What the metrics read from the events they are fed, as shapes of their own: the accounts
 * layer's AuthenticationEvent and HashPoolEvent, and the storage layer's OperationReport, fit
 * them. observability/ imports nothing from the layers it watches.
 */
type SignInOutcome =
  | { readonly outcome: 'success' }
  | { readonly outcome: 'failure'; readonly reason: string; readonly lockedForSeconds: number | null };
type HashJob = { readonly type: 'rejected' } | { readonly type: 'completed'; readonly op: string; readonly waitMs: number; readonly runMs: number };
interface HashPoolGauges {
  readonly size: number;
  readonly workers: number;
  readonly busy: number;
  readonly queued: number;
}
interface StorageOperation {
  readonly model: string;
  readonly store: string;
  readonly operation: string;
  readonly durationMs: number;
}

/**
 * Gatehouse's Prometheus metrics, one registry per running instance (tests run several in one
 * process). Labels only ever take values from fixed sets: route templates or provider route
 * names, methods, status codes, grant types, model and store names — never ids, tokens or
 * anything a client typed.
 */
export type BackchannelOutcome = 'delivered' | 'failed' | 'timed_out';

export interface Metrics {
  readonly registry: Registry;
  observeRequest(labels: { route: string; method: string; status: number }, seconds: number): void;
  tokenIssued(grantType: string): void;
  tokenError(error: string): void;
  onAuthentication(event: SignInOutcome): void;
  onOperation(report: StorageOperation): void;
  onHash(event: HashJob): void;
  /** Reports the hash pool's queue, running and busy workers at scrape time. */
  watchHashPool(stats: () => HashPoolGauges): void;
  /** Reports at scrape time how old the oldest key that signs is (undefined: none signs yet). */
  watchSigningKeys(ageSeconds: () => number | undefined): void;
  auditDropped(count: number): void;
  storeUnavailable(store: string): void;
  /** One back-channel logout request ended: delivered (the app answered 200), failed (refused, unreachable, any other answer) or timed_out. */
  backchannelLogout(outcome: BackchannelOutcome): void;
  /** An attempt-limit check or count served per instance because the shared store was away. */
  rateLimitFallback(limiter: string): void;
  /** One delivery attempt of an email: sent, failed but retried later, or given up. */
  mailDelivery(kind: string, outcome: 'sent' | 'retry' | 'failed'): void;
  /** Memory given back after a burst of traffic (src/observability/idle-collector.ts). */
  idleCollection(durationMs: number): void;
  /** A sign-in attempt that waited for a place among the attempts in flight: admitted, or refused 503. */
  signInWait(outcome: 'admitted' | 'refused'): void;
}

const LIMITERS: ReadonlySet<string> = new Set(LIMITER_NAMES);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const GRANT_TYPES = new Set([
  'authorization_code',
  'client_credentials',
  'refresh_token',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'urn:openid:params:grant-type:ciba',
  'password',
]);
const ERROR_CODE = /^[a-z_]{1,40}$/;

export function createMetrics(): Metrics {
  const registry = new Registry();
  // The event loop's delay sampled every 100 ms, not prom-client's 10 ms: most of an idle server's CPU (event-loop-lag.ts).
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: DORMANT_MONITOR_MS });
  replaceEventLoopLag(registry);
  const registers = [registry];

  // Each process reports 1; a GATEHOUSE_WORKERS scrape sums them (src/cluster/metrics-relay.ts).
  new Gauge({ name: 'gatehouse_worker_processes', help: 'Worker processes whose metrics this scrape adds up (1 without GATEHOUSE_WORKERS)', registers }).set(1);

  // Observed on every request: a histogram of Gatehouse's own that exports what prom-client's would (src/observability/request-durations.ts).
  const httpDuration = new RequestDurations({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'HTTP request duration by route template (or provider route name), method and status',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const tokensIssued = new Counter({
    name: 'gatehouse_tokens_issued_total',
    help: 'Successful token endpoint responses by grant type',
    labelNames: ['grant_type'] as const,
    registers,
  });
  const tokenErrors = new Counter({
    name: 'gatehouse_token_errors_total',
    help: 'Token endpoint errors by OAuth error code',
    labelNames: ['error'] as const,
    registers,
  });
  const signIns = new Counter({
    name: 'gatehouse_sign_ins_total',
    help: 'Password sign-ins by outcome (success, failure)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const signInFailures = new Counter({
    name: 'gatehouse_sign_in_failures_total',
    help: 'Failed password sign-ins by reason (unknown_user, wrong_password, locked, disabled)',
    labelNames: ['reason'] as const,
    registers,
  });
  const lockouts = new Counter({
    name: 'gatehouse_lockouts_total',
    help: 'Failed sign-ins that left a lockout in force',
    registers,
  });
  // Observed on every store operation (several per sign-in and refresh): Gatehouse's own, as the request histogram.
  const storage = new ThreeLabelHistogram({
    name: 'gatehouse_storage_operation_duration_seconds',
    help: 'oidc-provider adapter operations by model, store and operation',
    labelNames: ['model', 'store', 'operation'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const hashWait = new Histogram({
    name: 'gatehouse_password_hash_wait_seconds',
    help: 'Time a password hash/verify job waited for a worker',
    labelNames: ['op'] as const,
    buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const hashRun = new Histogram({
    name: 'gatehouse_password_hash_run_seconds',
    help: 'Time a worker spent on a password hash/verify job',
    labelNames: ['op'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const hashRejected = new Counter({
    name: 'gatehouse_password_hash_rejected_total',
    help: 'Sign-ins refused with 503 because the hashing queue was full',
    registers,
  });
  const auditDropped = new Counter({
    name: 'gatehouse_audit_events_dropped_total',
    help: 'Audit events dropped because MongoDB was away longer than the buffer lasts',
    registers,
  });
  const limitFallbacks = new Counter({
    name: 'gatehouse_rate_limit_fallback_total',
    help: 'Attempt-limit checks and counts served by the per-instance fallback while the shared store was unavailable, by limiter',
    labelNames: ['limiter'] as const,
    registers,
  });
  const unavailable = new Counter({
    name: 'gatehouse_store_unavailable_total',
    help: 'Requests answered 503 because a store was unavailable, by store',
    labelNames: ['store'] as const,
    registers,
  });

  const signInWaits = new Counter({
    name: 'gatehouse_sign_in_waits_total',
    help: 'Sign-in attempts (passwords, second-factor codes) that waited for a place among the attempts in flight on one account or address, by outcome (admitted, or refused 503 once none ahead ended)',
    labelNames: ['outcome'] as const,
    registers,
  });
  // By outcome only: apps are not a fixed set (dynamic registration), so no client label.
  const backchannelLogouts = new Counter({
    name: 'gatehouse_backchannel_logouts_total',
    help: 'Back-channel logout requests to apps by outcome (delivered, failed, timed_out)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const mail = new Counter({
    name: 'gatehouse_mail_deliveries_total',
    help: 'Email delivery attempts by kind and outcome (sent, retry = failed and queued again, failed = given up)',
    labelNames: ['kind', 'outcome'] as const,
    registers,
  });

  const idleCollections = new Counter({
    name: 'gatehouse_idle_collections_total',
    help: 'Full garbage collections run when the process went quiet after activity, giving memory back',
    registers,
  });

  return {
    registry,
    observeRequest({ route, method, status }, seconds) {
      httpDuration.observe(route, METHODS.has(method) ? method : 'other', status, seconds);
    },
    tokenIssued(grantType) {
      tokensIssued.inc({ grant_type: GRANT_TYPES.has(grantType) ? grantType : 'other' });
    },
    tokenError(error) {
      tokenErrors.inc({ error: ERROR_CODE.test(error) ? error : 'other' });
    },
    onAuthentication(event) {
      signIns.inc({ outcome: event.outcome });
      if (event.outcome === 'failure') {
        signInFailures.inc({ reason: event.reason });
        if (event.lockedForSeconds !== null) lockouts.inc();
      }
    },
    onOperation({ model, store, operation, durationMs }) {
      storage.observe(model, store, operation, durationMs / 1000);
    },
    onHash(event) {
      if (event.type === 'rejected') {
        hashRejected.inc();
        return;
      }
      hashWait.observe({ op: event.op }, event.waitMs / 1000);
      hashRun.observe({ op: event.op }, event.runMs / 1000);
    },
    watchHashPool(stats) {
      new Gauge({
        name: 'gatehouse_password_hash_queue_depth',
        help: 'Password hash/verify jobs waiting for a worker',
        registers,
        collect() {
          this.set(stats().queued);
        },
      });
      new Gauge({
        name: 'gatehouse_password_hash_workers',
        help: 'Password hashing worker threads running (started on demand, exit when idle)',
        registers,
        collect() {
          this.set(stats().workers);
        },
      });
      new Gauge({
        name: 'gatehouse_password_hash_workers_busy',
        help: 'Password hashing workers busy right now',
        registers,
        collect() {
          this.set(stats().busy);
        },
      });
    },
    watchSigningKeys(ageSeconds) {
      new Gauge({
        name: 'gatehouse_signing_key_age_seconds',
        help: 'Age of the oldest key signing tokens now (per algorithm the newest active key signs): rotate before it grows too old',
        registers,
        // Every worker serves the same key set: the instance's age is theirs, not their sum.
        aggregator: 'max',
        collect() {
          const age = ageSeconds();
          if (age === undefined) this.reset();
          else this.set(age);
        },
      });
    },
    auditDropped(count) {
      auditDropped.inc(count);
    },
    backchannelLogout(outcome) {
      backchannelLogouts.inc({ outcome });
    },
    storeUnavailable(store) {
      unavailable.inc({ store });
    },
    rateLimitFallback(limiter) {
      limitFallbacks.inc({ limiter: LIMITERS.has(limiter) ? limiter : 'other' });
    },
    signInWait(outcome) {
      signInWaits.inc({ outcome });
    },
    mailDelivery(kind, outcome) {
      // Kinds come from the mailer's fixed list (src/mail/mailer.ts MAIL_KINDS).
      mail.inc({ kind: ERROR_CODE.test(kind) ? kind : 'other', outcome });
    },
    idleCollection() {
      idleCollections.inc();
    },
  };
}
