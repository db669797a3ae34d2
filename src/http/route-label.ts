import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { DISCOVERY } from '../routes/match.ts';
import type { RoutesTable } from '../routes/table.ts';

/** Where the provider's route name is kept on the request (a property: cheaper per request than a WeakMap entry). */
const PROVIDER_ROUTE = Symbol('gatehouse.providerRoute');
type Labelled = IncomingMessage & { [PROVIDER_ROUTE]?: string };

/** Remembers which of the provider's routes (`token`, `discovery`, ...) served a request (the provider's outermost middleware tells, src/oidc/error-boundary.ts). */
export function recordProviderRoute(req: IncomingMessage, route: string): void {
  (req as Labelled)[PROVIDER_ROUTE] = route;
}

/** Forgets the provider route of a request that a page handed to the provider and then answered as its own (src/interactions/resume-here.ts). */
export function forgetProviderRoute(req: IncomingMessage): void {
  (req as Labelled)[PROVIDER_ROUTE] = undefined;
}

/**
 * A bounded label for a request: the provider's route name, else the template of the Gatehouse
 * route that matched (`/interaction/:uid/login`) — by its path alone when the method was not
 * one it takes — else `other`. Never the raw path, which carries uids and whatever a client typed.
 */
export function routeLabel(ctx: Context): string {
  const provider = (ctx.req as Labelled)[PROVIDER_ROUTE];
  if (provider !== undefined) return provider;
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  return templateOfPath(ctx) ?? 'other';
}

/**
 * The template of a route whose path matched although its method did not (`PUT
 * /interaction/:uid/login`): @koa/router keeps every layer whose path matched in `ctx.matched`;
 * the last one with methods is the route (as it picks `_matchedRoute`), `router.use` layers have none.
 */
function templateOfPath(ctx: Context): string | undefined {
  const layers = (ctx as { matched?: ReadonlyArray<{ readonly path?: unknown; readonly methods?: readonly string[] }> }).matched;
  if (layers === undefined) return undefined;
  for (let index = layers.length - 1; index >= 0; index -= 1) {
    const layer = layers[index]!;
    if ((layer.methods?.length ?? 0) > 0 && typeof layer.path === 'string') return layer.path;
  }
  return undefined;
}

/** The words Gatehouse's own paths are made of (every path of the routes table, split at `/`): nothing a client chose. */
export function pathWords(routes: RoutesTable): ReadonlySet<string> {
  const words = new Set<string>();
  const add = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const word of value.split('/')) if (word !== '') words.add(word);
    } else if (typeof value === 'object' && value !== null) {
      for (const inner of Object.values(value)) add(inner);
    }
  };
  add(routes);
  add(DISCOVERY);
  return words;
}

/**
 * A path no route matched, as the access log writes it: the segments that are words of
 * Gatehouse's own paths kept, every other one `*` — an interaction uid (also a cookie's value), a
 * link token, a code or whatever a client typed never reaches the log. Compared as sent (a
 * segment in other letter case is not a word of ours, so it is hidden too).
 */
export function redactedPath(path: string, words: ReadonlySet<string>): string {
  return path
    .split('/')
    .map((segment) => (segment === '' || words.has(segment) ? segment : '*'))
    .join('/');
}
