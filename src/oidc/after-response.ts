import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** The route of requests no provider route served (the 404s): the steps for the not-found page and wrong methods. */
export const NO_ROUTE = '';

/**
 * One thing Gatehouse does to a provider response once the library has built it, on the
 * provider routes it concerns: the introspection answer's extra claims, the discovery filters,
 * the refresh rotation's completion, the 404 page, ... Each used to be a provider middleware of
 * its own that awaited next() on every request to look at one route afterwards; now they all
 * run from one step, dispatched by the route that served the request (`afterResponse`).
 */
export interface AfterResponseStep {
  /** The provider routes it looks at: the library's route names (`ctx.oidc.route`), and NO_ROUTE for requests none served. */
  readonly routes: readonly string[];
  /** Runs once the response is built, on those routes only (in the order the middlewares they replace ran: the innermost first). */
  readonly after: (ctx: KoaContextWithOIDC) => void | Promise<void>;
  /**
   * Runs instead of `after` when building the response failed (the library, or a step that ran
   * before this one, threw): clean-up only, the error goes on. Steps without it are skipped then,
   * as a middleware's code after `await next()` was.
   */
  readonly failed?: ((ctx: KoaContextWithOIDC) => void | Promise<void>) | undefined;
}

/** The library's router names the route it matched here; `ctx.oidc.route` is the same name, but reading it makes the OIDC context. */
const routeOf = (ctx: object): string => (ctx as { _matchedRouteName?: string })._matchedRouteName ?? NO_ROUTE;

/** What building a response threw, carried past the steps that still have to see it. */
export interface ResponseFailure {
  readonly error: unknown;
}

/**
 * Runs the steps of the request's route once `next()` settled (`failure` when it threw), and
 * gives what the request's outcome now is: undefined when all went well, else the failure to
 * rethrow. Synchronous (no promise, no await) for the routes no step concerns — userinfo, JWKS,
 * most tokens — and as long as the steps that run answer synchronously (introspection of a
 * client_credentials token). `steps` are in the order their middlewares were registered
 * (outermost first); each route runs only its own steps, innermost first, as the onion of
 * middlewares did. As in that onion, a step that throws ends the others' `after` (the error goes
 * up to the error boundary); steps further out only run `failed`.
 */
export type AfterResponseSteps = (ctx: KoaContextWithOIDC, failure: ResponseFailure | undefined) => ResponseFailure | undefined | Promise<ResponseFailure | undefined>;

export function afterResponseSteps(steps: readonly AfterResponseStep[]): AfterResponseSteps {
  const byRoute = new Map<string, AfterResponseStep[]>();
  for (let index = steps.length - 1; index >= 0; index -= 1) {
    const step = steps[index] as AfterResponseStep;
    for (const route of new Set(step.routes)) {
      let list = byRoute.get(route);
      if (list === undefined) byRoute.set(route, (list = []));
      list.push(step);
    }
  }
  /** The steps from `from` on, each awaited. */
  const runAsync = async (ctx: KoaContextWithOIDC, own: readonly AfterResponseStep[], from: number, failed: ResponseFailure | undefined): Promise<ResponseFailure | undefined> => {
    let failure = failed;
    for (let index = from; index < own.length; index += 1) {
      const step = own[index] as AfterResponseStep;
      if (failure === undefined) {
        try {
          const done = step.after(ctx);
          if (done !== undefined) await done;
        } catch (error) {
          failure = { error };
        }
      } else if (step.failed !== undefined) {
        const done = step.failed(ctx);
        if (done !== undefined) await done;
      }
    }
    return failure;
  };
  /** The step at `index` answered with a promise: it is awaited as runAsync would, and the rest run there. */
  const awaitThenRun = async (ctx: KoaContextWithOIDC, own: readonly AfterResponseStep[], index: number, failed: ResponseFailure | undefined, pending: Promise<void>): Promise<ResponseFailure | undefined> => {
    let failure = failed;
    if (failure === undefined) {
      try {
        await pending;
      } catch (error) {
        failure = { error };
      }
    } else await pending;
    return runAsync(ctx, own, index + 1, failure);
  };
  /**
   * The steps in order, synchronously as long as each answers synchronously (an introspection
   * of a client_credentials token adds its claims without waiting for anything): no promise and
   * no microtask for them. The first step that answers with a promise is awaited, and the rest
   * run as runAsync — the same order and the same outcome either way.
   */
  const run = (ctx: KoaContextWithOIDC, own: readonly AfterResponseStep[], failed: ResponseFailure | undefined): ResponseFailure | undefined | Promise<ResponseFailure | undefined> => {
    let failure = failed;
    for (let index = 0; index < own.length; index += 1) {
      const step = own[index] as AfterResponseStep;
      if (failure === undefined) {
        let done: void | Promise<void>;
        try {
          done = step.after(ctx);
        } catch (error) {
          failure = { error };
          continue;
        }
        if (done !== undefined) return awaitThenRun(ctx, own, index, failure, done);
      } else if (step.failed !== undefined) {
        const done = step.failed(ctx);
        if (done !== undefined) return awaitThenRun(ctx, own, index, failure, done);
      }
    }
    return failure;
  };
  return (ctx, failure) => {
    const own = byRoute.get(routeOf(ctx));
    return own === undefined ? failure : run(ctx, own, failure);
  };
}

/**
 * The steps as one provider middleware of their own (the provider's error boundary runs them
 * itself, src/oidc/error-boundary.ts: one layer fewer on every provider request).
 */
export function afterResponse(steps: readonly AfterResponseStep[]): Middleware {
  const settle = afterResponseSteps(steps);
  return async (koa, next) => {
    const ctx = koa as unknown as KoaContextWithOIDC;
    let failure: ResponseFailure | undefined;
    try {
      await next();
    } catch (error) {
      failure = { error };
    }
    const settled = settle(ctx, failure);
    failure = settled instanceof Promise ? await settled : settled;
    if (failure !== undefined) throw failure.error;
  };
}

export function stepMiddleware(step: AfterResponseStep): Middleware {
  return async (koa, next) => {
    const ctx = koa as unknown as KoaContextWithOIDC;
    try {
      await next();
    } catch (error) {
      if (step.failed !== undefined) await step.failed(ctx);
      throw error;
    }
    await step.after(ctx);
  };
}
