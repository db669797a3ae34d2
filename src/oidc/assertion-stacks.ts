import type Provider from 'oidc-provider';

/** Koa's `ctx.assert` (http-assert): a function with helpers (`equal`, `fail`, ...) as properties. */
type HttpAssert = ((value: unknown, status?: unknown, message?: unknown, options?: unknown) => void) & Record<string, unknown>;

/** `Error.stackTraceLimit` as it was before a read of `ctx.assert` set it to 0; undefined when nothing is held. */
let heldLimit: number | undefined;

function restoreStackTraceLimit(): void {
  if (heldLimit === undefined) return;
  Error.stackTraceLimit = heldLimit;
  heldLimit = undefined;
}

/**
 * The library checks what it has just looked up with `ctx.assert(value, new InvalidToken(...))`
 * (lib/shared/access_token.js: the access token, its client, its account — three per userinfo
 * request; the DPoP replay check; registration): the error is an argument, so it is built on
 * every request, and V8 captures its stack twice (the `Error` constructor and the class's own
 * `Error.captureStackTrace`), walking the async chain — ≈ 12 % of a userinfo request's event
 * loop, for errors that are thrown only when the check fails.
 *
 * A call `ctx.assert(a, b)` reads `ctx.assert` before it evaluates its arguments
 * (ECMA-262 EvaluateCall), so this context's `assert` is a getter: the read sets
 * `Error.stackTraceLimit` to 0, the errors built as arguments capture no frames, and the call
 * puts the limit back first thing. A failing check then captures the thrown error's stack at the
 * call — the library's function that asserted and its callers, the frames the class's own
 * capture would have kept — so a thrown error's stack is what it was. Anything that reads
 * `ctx.assert` without calling it gets the limit back at the end of the current job (a
 * microtask). Koa's `assert` (http-assert) still decides what is thrown.
 */
export function captureStacksOfFailedAssertionsOnly(provider: Provider): void {
  const context = provider.context as unknown as Record<string, unknown>;
  const assert = context.assert as HttpAssert;
  const assertAndRestore: HttpAssert = Object.assign(function assertAndRestore(value: unknown, status?: unknown, message?: unknown, options?: unknown): void {
    restoreStackTraceLimit();
    if (value) return;
    if (status instanceof Error) Error.captureStackTrace(status, assertAndRestore);
    assert(value, status, message, options);
  }, helpersRestoring(assert));
  Object.defineProperty(context, 'assert', {
    configurable: true,
    enumerable: true,
    get(): HttpAssert {
      if (heldLimit === undefined) {
        heldLimit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        queueMicrotask(restoreStackTraceLimit);
      }
      return assertAndRestore;
    },
  });
}

/** http-assert's helpers (`ctx.assert.equal(...)`, `.fail`, ...), each putting the limit back before it runs. */
function helpersRestoring(assert: HttpAssert): Record<string, unknown> {
  const helpers: Record<string, unknown> = {};
  for (const [name, helper] of Object.entries(assert)) {
    helpers[name] = typeof helper === 'function'
      ? (...args: unknown[]): unknown => {
          restoreStackTraceLimit();
          return (helper as (...args: unknown[]) => unknown)(...args);
        }
      : helper;
  }
  return helpers;
}
