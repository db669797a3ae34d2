import type { DefaultContext, DefaultState, Middleware } from 'koa';

/**
 * A middleware for a surface few instances ever serve (the admin API), built by its first
 * request under `prefix` instead of at startup: its modules, schemas and documents then cost
 * neither start-up time nor resident memory on instances that never see one. Until then other
 * paths pass straight through; afterwards every request goes to the built middleware, which
 * matches paths exactly as it would have if mounted directly. A failed load is retried by the
 * next request.
 */
export function loadOnFirstRequest<StateT = DefaultState, ContextT = DefaultContext>(
  prefix: string,
  load: () => Promise<Middleware<StateT, ContextT>>,
): Middleware<StateT, ContextT> {
  const lowerPrefix = prefix.toLowerCase();
  let loaded: Middleware<StateT, ContextT> | undefined;
  let loading: Promise<Middleware<StateT, ContextT>> | undefined;
  return async (ctx, next) => {
    if (loaded !== undefined) return loaded(ctx, next);
    // Routers match case-insensitively; anything that is not under the prefix cannot match.
    if (!ctx.path.toLowerCase().startsWith(lowerPrefix)) return next();
    loading ??= load().then(
      (middleware) => (loaded = middleware),
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    );
    return (await loading)(ctx, next);
  };
}
