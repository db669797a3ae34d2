/**
 * The provider's routes a person's browser visits: only these answer errors as pages. Every
 * other route (token, introspection, revocation, userinfo, device authorization, PAR,
 * registration, discovery, JWKS) is called by software and answers JSON errors whatever the
 * Accept header says (RFC 6749 §5.2, RFC 6750 §3, RFC 7662 §2.3) — Java's HttpURLConnection,
 * for one, sends `Accept: text/html, ...` by default.
 */
export const PAGE_ROUTE_NAMES = ['authorization', 'resume', 'end_session', 'end_session_confirm', 'end_session_success', 'code_verification', 'device_resume'] as const;
const PAGE_ROUTES: ReadonlySet<string> = new Set(PAGE_ROUTE_NAMES);

export function isPageRoute(route: unknown): boolean {
  return typeof route === 'string' && PAGE_ROUTES.has(route);
}
