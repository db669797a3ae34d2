import type { Middleware } from 'koa';

/** Whether any client may use a grant now (e.g. some client has `allow_password_grant`). */
export type GrantInUse = () => Promise<boolean>;

/**
 * oidc-provider lists every registered grant in `grant_types_supported`. An opt-in grant that
 * no client may use is left out, so discovery does not advertise the password grant to
 * deployments that never enabled it. A "yes" is cached for `ttlMs` (a client that lost the
 * grant stops being advertised after that); a "no" is asked again each time, so a client
 * enabled meanwhile is advertised at once (discovery is fetched rarely; relying parties cache it).
 */
export function listGrantWhileInUse(grantType: string, inUse: GrantInUse, { ttlMs = 30_000, now = Date.now }: { ttlMs?: number; now?: () => number } = {}): Middleware {
  let cached: { value: boolean; until: number } | undefined;
  const check = async (): Promise<boolean> => {
    if (cached !== undefined && cached.until > now()) return cached.value;
    const value = await inUse();
    cached = value ? { value, until: now() + ttlMs } : undefined;
    return value;
  };
  return async (ctx, next) => {
    await next();
    if ((ctx as { oidc?: { route?: string } }).oidc?.route !== 'discovery' || ctx.status !== 200) return;
    const body = ctx.body as { grant_types_supported?: unknown } | undefined;
    const listed = body?.grant_types_supported;
    if (!Array.isArray(listed) || !listed.includes(grantType) || (await check())) return;
    ctx.body = { ...body, grant_types_supported: listed.filter((entry) => entry !== grantType) };
  };
}
