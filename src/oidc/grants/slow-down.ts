import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { DEFAULT_INTERVAL_MS, type DevicePolls } from '../../limits/device-polls.ts';
import { currentRequestArrival } from '../../observability/request-context.ts';
import type { AfterResponseStep } from '../after-response.ts';
import type { WrapGrant } from '../provider.ts';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * RFC 8628 §3.5: a device polling the token endpoint faster than its interval gets `slow_down`,
 * and its interval grows by 5 s for that and every later poll. The library never answers
 * `slow_down` (it has the error, lib/helpers/errors.js, but no throttle and no hook), so its
 * device-code grant is wrapped: when the library decides the request is still pending — the
 * client authenticated, the code is its own, unexpired and not yet approved or denied — the poll
 * is recorded (every instance sees it: DevicePolls), timed by when the request arrived (noted at
 * the edge, src/http/edge.ts), and one that came too soon is answered `slow_down` instead, as the
 * library's own error. Approved and refused codes answer as before.
 */
export function slowDownFastPolls(polls: DevicePolls): WrapGrant {
  return (name, handler) => {
    if (name !== DEVICE_CODE_GRANT) return handler;
    return async (ctx) => {
      try {
        await handler(ctx);
      } catch (error) {
        if (!(error instanceof errors.AuthorizationPending)) throw error;
        const code = ctx.oidc.params.device_code;
        if (typeof code === 'string' && (await polls.tooSoon(code, currentRequestArrival()))) throw new errors.SlowDown();
        throw error;
      }
    };
  };
}

/**
 * After the response (src/oidc/after-response.ts), at device authorization: RFC 8628 §3.2's
 * `interval`, the one the token endpoint enforces above. The library names none and has no
 * setting for it; clients then assume the same 5 s, but some wait longer or poll on a guess.
 */
export const advertisePollInterval: AfterResponseStep = { routes: ['device_authorization'], after: addInterval };

function addInterval(ctx: KoaContextWithOIDC): void {
  const body = ctx.body as Record<string, unknown> | undefined;
  if (ctx.status !== 200 || typeof body?.device_code !== 'string') return;
  body.interval = DEFAULT_INTERVAL_MS / 1000;
}
