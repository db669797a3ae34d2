import introspection from 'oidc-provider/lib/actions/introspection.js';
import revocation from 'oidc-provider/lib/actions/revocation.js';
import rejectStructuredTokens from 'oidc-provider/lib/shared/reject_structured_tokens.js';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** A step of the library's introspection / revocation action: `ctx.oidc.params` assembled, the client authenticated. */
export type Step = (ctx: KoaContextWithOIDC, next: () => Promise<void>) => unknown;

/** Each provider's step in the library's check's place (a WeakMap: a provider the key ring dropped goes with its step). */
const structuredTokenSteps = new WeakMap<object, Step>();

/**
 * In the library's structured-token check's place, for this provider only: `step` runs there
 * instead of the check (src/oidc/jwt-records.ts swaps a verified JWT for its record id, so the
 * check never meets a JWT of Gatehouse's). The action lists are the module's, shared by every
 * Provider in the process, so the step is found by the request's provider.
 */
export function inStructuredTokenCheckPlace(provider: object, step: Step): void {
  structuredTokenSteps.set(provider, step);
}

/**
 * The library's `rejectStructuredTokens` (lib/shared/reject_structured_tokens.js), in front of
 * introspection and revocation, asks jose's `decodeProtectedHeader` whether the token is a JWT
 * and answers unsupported_token_type when it is. decodeProtectedHeader decodes only a string of
 * three or five dot-separated parts and *throws* a TypeError for anything else — every opaque
 * token, and every record id Gatehouse swaps a JWT for (src/oidc/jwt-records.ts) — which the
 * check catches: a thrown error and its stack walk on every introspection, the largest single
 * cost of the library's on that path (docs/PERFORMANCE.md, perf21c, perf25).
 *
 * This step answers a string token that is not three or five parts exactly as the library's
 * would (not a JWT: on to the next step) without the throw, and hands every other token to the
 * library's own check, which decides — unless the request's provider has a step of its own here
 * (inStructuredTokenCheckPlace), which then runs instead.
 */
export function rejectStructuredTokensOfJwtShape(ctx: KoaContextWithOIDC, next: () => Promise<void>): unknown {
  const instead = structuredTokenSteps.get(ctx.oidc.provider);
  if (instead !== undefined) return instead(ctx, next);
  const token: unknown = ctx.oidc.params?.token;
  if (typeof token === 'string' && !hasJwsOrJweShape(token)) return next();
  return (rejectStructuredTokens as Step)(ctx, next);
}

/** Whether `token.split('.')` has three or five parts: the only strings decodeProtectedHeader decodes. */
function hasJwsOrJweShape(token: string): boolean {
  let dots = 0;
  for (let at = token.indexOf('.'); at !== -1; at = token.indexOf('.', at + 1)) {
    if (++dots > 4) return false;
  }
  return dots === 2 || dots === 4;
}

/**
 * Puts rejectStructuredTokensOfJwtShape in place of the library's check in its introspection and
 * revocation actions (the module's middleware lists, which a Provider spreads into its router
 * when it is built: call this before building one). Idempotent; the same answer for every token.
 */
export function checkOnlyJwtShapedTokensForStructure(): void {
  for (const action of [introspection, revocation] as unknown as Step[][]) {
    const at = action.indexOf(rejectStructuredTokens as Step);
    if (at !== -1) action[at] = rejectStructuredTokensOfJwtShape as Step;
  }
}
