import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AfterResponseStep } from '../after-response.ts';
import { originalGrantId } from './exchanged-grant-ids.ts';

/**
 * After the response (src/oidc/after-response.ts), at introspection: an exchanged token lives under a grant of its own (the library checks
 * that a token's grant belongs to the token's client), linked by id to the grant of the token it
 * was exchanged for. Introspection answers `active: false` once that original grant is gone
 * (revoked, its user disabled, its client deleted), as it would for the original token.
 */
export const exchangedTokensFollowTheirOrigin: AfterResponseStep = { routes: ['introspection'], after: followOrigin };

/**
 * Synchronous unless the token is an exchanged one: the after-response steps then stay off the
 * microtask queue for every other introspection (src/oidc/after-response.ts runs synchronous steps
 * without a promise; docs/PERFORMANCE.md, perf16).
 */
function followOrigin(ctx: KoaContextWithOIDC): void | Promise<void> {
  const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
  if (oidc?.route !== 'introspection') return;
  const body = ctx.body as { active?: boolean } | undefined;
  if (body?.active !== true) return;
  const token = oidc.entities.AccessToken as { grantId?: string } | undefined;
  const origin = originalGrantId(token?.grantId);
  if (origin === undefined) return;
  return inactiveWithoutOrigin(ctx, origin);
}

async function inactiveWithoutOrigin(ctx: KoaContextWithOIDC, origin: string): Promise<void> {
  const grant = await ctx.oidc.provider.Grant.find(origin);
  if (grant === undefined || grant.isExpired) ctx.body = { active: false };
}

/** extraTokenClaims around the usual ones: an exchanged token keeps the `act` claim set at exchange. */
export function withActClaim<T extends (ctx: KoaContextWithOIDC, token: never) => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined>(base: T) {
  return async (ctx: KoaContextWithOIDC, token: Parameters<T>[1]) => {
    const act = (token as { extra?: { act?: unknown } }).extra?.act;
    const claims = await base(ctx, token);
    return act === undefined ? claims : { ...claims, act };
  };
}
