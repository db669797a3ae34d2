import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { AfterResponseStep } from './after-response.ts';

/** What the library says when a client uses a grant type it is not registered for: at /token (lib/actions/token.js) and at device authorization (lib/actions/authorization/client.js). */
const GRANT_TYPE_NOT_ALLOWED = new Set([
  'requested grant type is not allowed for this client',
  'urn:ietf:params:oauth:grant-type:device_code is not allowed for this client',
]);

type OAuthErrorBody = { error?: unknown; error_description?: unknown };

/** Whether an error (the library's, or the body it rendered) is the library's refusal of a grant type the client is not registered for. */
export function isGrantTypeNotAllowed(error: unknown): boolean {
  const { error: code, error_description: description } = (error ?? {}) as OAuthErrorBody;
  return code === 'invalid_request' && typeof description === 'string' && GRANT_TYPE_NOT_ALLOWED.has(description);
}

/**
 * RFC 6749 §5.2: "unauthorized_client — the authenticated client is not authorized to use this
 * authorization grant type" (the device authorization endpoint answers the same errors, RFC 8628
 * §3.2). oidc-provider answers that case `invalid_request`; its answer is given the standard code
 * (same status, same description), and nothing else is touched: the match is the library's own
 * code and text for exactly that refusal.
 */
export const grantTypeNotAllowedAsUnauthorizedClient: AfterResponseStep = {
  routes: ['token', 'device_authorization'],
  after(ctx) {
    const body = ctx.body as OAuthErrorBody | undefined;
    if (ctx.status === 400 && typeof body === 'object' && body !== null && isGrantTypeNotAllowed(body)) body.error = 'unauthorized_client';
  },
};

/**
 * RFC 6749 §4.1.2.1: at the authorization endpoint (and PAR), a client asking for a response type
 * it is not registered for gets `unauthorized_client` ("not authorized to request an
 * authorization code using this method"); the library answers `invalid_request`
 * (lib/actions/authorization/response_parameters.js, its only call of Client#responseTypeAllowed).
 * This instance's Client class (each Provider has its own) refuses there with the standard code
 * and the library's description, so the library's own error handling sends it (to the redirect
 * URI with `state` and `iss`, once that URI is checked) — the response is not rewritten afterwards.
 */
export function responseTypeNotAllowedAsUnauthorizedClient(provider: Provider): void {
  const prototype = provider.Client.prototype as { responseTypeAllowed(type: string): boolean };
  const allowed = prototype.responseTypeAllowed;
  Object.defineProperty(prototype, 'responseTypeAllowed', {
    value(this: object, type: string): boolean {
      if (allowed.call(this, type)) return true;
      throw new errors.UnauthorizedClient('requested response_type is not allowed for this client');
    },
    configurable: true,
    writable: true,
  });
}
