/*
 * When a server's JIT has finished under a steady load (bench/compare.ts --settle).
 *
 * V8 compiles hot functions (Maglev, Turbofan) on its helper threads, the same `V8Worker`
 * threads that scavenge in parallel and mark concurrently (Node names them all alike, so /proc
 * cannot split the two). Under a steady load the collector's work per request is about constant,
 * while the compiler's comes in bursts that thin out as the hot code is optimized (a burst can
 * come 30 s into the load: a function deoptimized and compiled again). So a warm-up is long
 * enough when the helper threads' CPU per request has stayed near its lowest level for several
 * windows in a row, and — where the server reports it (compare.ts --allocations) — the JIT wrote
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
  /** Windows in a row that must read level. */
  readonly span: number;
  /** How far above the lowest window's helper CPU per request a window may read and still be level, as a share of it ... */
  readonly tolerance: number;
  /** ... plus this many µs per request (stat's 10 ms ticks over a few thousand requests). */
  readonly floorUs: number;
  /** The most machine code (bytes) a level window may add. */
  readonly codeBytes: number;
}

export const DEFAULT_SETTLE_RULE: SettleRule = { span: 3, tolerance: 0.25, floorUs: 10, codeBytes: 64 * 1024 };

/** Whether the last `span` windows all read level: the JIT has stopped adding work. */
export function settled(windows: readonly WarmupWindow[], rule: SettleRule = DEFAULT_SETTLE_RULE): boolean {
  if (windows.length < rule.span + 1) return false;
  const lowest = Math.min(...windows.map(helpersPerRequest));
  const ceiling = lowest * (1 + rule.tolerance) + rule.floorUs;
  return windows.slice(-rule.span).every((window) => helpersPerRequest(window) <= ceiling && (window.codeBytes ?? 0) <= rule.codeBytes);
}
