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
