import type { AfterResponseStep } from '../after-response.ts';
import { listWhileOn } from '../discovery-list.ts';

/** Whether any client may use a grant now (e.g. some client has `allow_password_grant`). */
export type GrantInUse = () => Promise<boolean>;

/**
 * oidc-provider lists every registered grant in `grant_types_supported`. An opt-in grant that
 * no client may use is left out, so discovery does not advertise the password grant (or token
 * exchange) to deployments that never enabled it. Discovery is public, so the answer is cached: a "yes" for
 * `ttlMs` (a client that lost the grant stops being advertised after that), a "no" for the
 * shorter `negativeTtlMs` (a client enabled meanwhile is advertised within it), and concurrent
 * requests share one lookup — anyone may fetch discovery, and each lookup reads every client.
 */
export function listGrantWhileInUse(
  grantType: string,
  inUse: GrantInUse,
  { ttlMs = 30_000, negativeTtlMs = 2_000, now = Date.now }: { ttlMs?: number; negativeTtlMs?: number; now?: () => number } = {},
): AfterResponseStep {
  let cached: { value: boolean; until: number } | undefined;
  let pending: Promise<boolean> | undefined;
  const lookup = async (): Promise<boolean> => {
    try {
      const value = await inUse();
      cached = { value, until: now() + (value ? ttlMs : negativeTtlMs) };
      return value;
    } finally {
      pending = undefined;
    }
  };
  const check = (): Promise<boolean> => {
    if (cached !== undefined && cached.until > now()) return Promise.resolve(cached.value);
    pending ??= lookup();
    return pending;
  };
  return listWhileOn('grant_types_supported', grantType, check);
}
