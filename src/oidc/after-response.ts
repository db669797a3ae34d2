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

/**
 * The steps as one provider middleware. `steps` are in the order their middlewares were
 * registered (outermost first); after the response each route runs only its own steps, innermost
 * first, as the onion of middlewares did — a userinfo request passes one layer that finds
 * nothing to do, instead of ten that each looked. As in that onion, a step that throws ends the
 * others' `after` (the error goes up to the error boundary); steps further out only run `failed`.
 */
export function afterResponse(steps: readonly AfterResponseStep[]): Middleware {
  const byRoute = new Map<string, AfterResponseStep[]>();
  for (let index = steps.length - 1; index >= 0; index -= 1) {
    const step = steps[index] as AfterResponseStep;
    for (const route of new Set(step.routes)) {
      let list = byRoute.get(route);
      if (list === undefined) byRoute.set(route, (list = []));
      list.push(step);
    }
  }
  return async (koa, next) => {
    const ctx = koa as unknown as KoaContextWithOIDC;
    let failure: { error: unknown } | undefined;
    try {
      await next();
    } catch (error) {
      failure = { error };
    }
    const own = byRoute.get(routeOf(ctx));
    if (own !== undefined) {
      for (const step of own) {
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
    }
    if (failure !== undefined) throw failure.error;
  };
}

/** One step as a middleware of its own, on every route (its `after` checks the route itself): what the step was before the fold. */
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
