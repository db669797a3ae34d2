/*
 * When a server's JIT has finished under a steady load (bench/compare.ts --settle).
 *
 * V8 compiles hot functions (Maglev, Turbofan) on its helper threads, the same `V8Worker`
 * threads that scavenge in parallel and mark concurrently (Node names them all alike, so /proc
 * cannot split the two). Under a steady load the collector's work per request is about constant,
 * while the compiler's comes in bursts that thin out as the hot code is optimized (a burst can
 * come 30 s into the load: a function deoptimized and compiled again). So a warm-up is long
 * enough when the helper threads' CPU per request over the last few windows is near the lowest
 * any few consecutive windows read, and — where the server reports it (compare.ts --allocations) — the JIT wrote
 * next to no machine code in them. perf17 found the JIT still 57 % of Gatehouse's helper threads'
 * CPU per introspection after 20 s of load at load ≈ 20; perf20 measured how long it takes.
 *
 * On a loaded machine a neighbour's burst also lifts a window: that only makes the warm-up
 * longer (bounded by compare.ts --settle-max), never ends it early.
 */

/** One window of warm-up load on one server. */
export interface WarmupWindow {
  /** Requests answered in the window. */
  readonly requests: number;
  /** The `V8Worker` threads' CPU in the window, ms. */
  readonly helpersMs: number;
  /** Machine code the JIT added in the window (code spaces, net of what the collector freed), bytes; unknown without the allocation probe. */
  readonly codeBytes?: number;
}

/** The helper threads' CPU per request of a window, µs. */
export const helpersPerRequest = (window: WarmupWindow): number => (window.helpersMs * 1000) / Math.max(1, window.requests);

export interface SettleRule {
  /** Windows in a row that must read level together. */
  readonly span: number;
  /** How far above the lowest span's helper CPU per request the last span may read and still be level, as a share of it ... */
  readonly tolerance: number;
  /** ... plus this many µs per request (stat's 10 ms ticks over a few thousand requests). */
  readonly floorUs: number;
  /** The most machine code (bytes) a level window may add. */
  readonly codeBytes: number;
}

export const DEFAULT_SETTLE_RULE: SettleRule = { span: 3, tolerance: 0.25, floorUs: 10, codeBytes: 64 * 1024 };

/** The helper threads' CPU per request over consecutive windows taken together. */
const spanPerRequest = (span: readonly WarmupWindow[]): number => helpersPerRequest({ requests: span.reduce((sum, window) => sum + window.requests, 0), helpersMs: span.reduce((sum, window) => sum + window.helpersMs, 0) });

/**
 * Whether the last `span` windows together, and the `span` windows before them, read level —
 * within the tolerance of the lowest any `span` consecutive windows read (spans, not single windows: at a few hundred requests a window,
 * stat's 10 ms ticks make a single window read 0) — and none of them added machine code beyond
 * the rule's bound: the JIT has stopped adding work.
 */
export function settled(windows: readonly WarmupWindow[], rule: SettleRule = DEFAULT_SETTLE_RULE): boolean {
  if (windows.length < 2 * rule.span) return false;
  const spans = windows.slice(rule.span - 1).map((_, index) => spanPerRequest(windows.slice(index, index + rule.span)));
  const ceiling = Math.min(...spans) * (1 + rule.tolerance) + rule.floorUs;
  // The span before the last one too: a falling level's last span is always its lowest.
  const before = spanPerRequest(windows.slice(-2 * rule.span, -rule.span));
  return spans.at(-1)! <= ceiling && before <= ceiling && windows.slice(-rule.span).every((window) => (window.codeBytes ?? 0) <= rule.codeBytes);
}
