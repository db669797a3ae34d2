import { errors } from 'oidc-provider';
import type { DevicePolls } from '../../limits/device-polls.ts';
import type { WrapGrant } from '../provider.ts';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * RFC 8628 §3.5: a device polling the token endpoint faster than its interval gets `slow_down`,
 * and its interval grows by 5 s for that and every later poll. The library never answers
 * `slow_down` (it has the error, lib/helpers/errors.js, but no throttle and no hook), so its
 * device-code grant is wrapped: when the library decides the request is still pending — the
 * client authenticated, the code is its own, unexpired and not yet approved or denied — the poll
 * is recorded (every instance sees it: DevicePolls) and one that came too soon is answered
 * `slow_down` instead, as the library's own error. Approved and refused codes answer as before.
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
        if (typeof code === 'string' && (await polls.tooSoon(code))) throw new errors.SlowDown();
        throw error;
      }
    };
  };
}
