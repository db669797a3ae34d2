/** Baseline headers for every response Gatehouse renders itself, as [name, value] pairs (set by src/http/edge.ts). */
export function securityHeaderList({ https }: { https: boolean }): ReadonlyArray<readonly [string, string]> {
  return [
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'no-referrer'],
    ['X-Frame-Options', 'DENY'],
    ...(https ? [HSTS] : []),
  ];
}

const HSTS = ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'] as const;

/**
 * The headers of the OAuth endpoints' JSON answers (token, introspection, revocation, userinfo,
 * JWKS, discovery; set by src/http/edge.ts), with the policy of src/http/content-security-policy.ts
 * `JSON_ENDPOINT_POLICY`. What each is for on a JSON answer:
 * - `X-Content-Type-Options: nosniff`: a browser never reads the JSON as HTML or script (a token
 *   response or userinfo pulled in by a `<script>` of another site, or rendered as a page);
 * - `X-Frame-Options: DENY`: no framing, for browsers older than CSP's frame-ancestors;
 * - HSTS on an https issuer: the endpoints are reached over TLS only, as the pages are.
 * Left out, as a JSON document does not need it: `Referrer-Policy` (a JSON document loads
 * nothing and links nowhere, so it sends no Referer), and the pages' long CSP (scripts, styles,
 * images and forms, none of which a JSON document has). Cache-Control: no-store comes from the
 * library on the answers that carry tokens or claims.
 */
export function jsonEndpointHeaderList({ https }: { https: boolean }): ReadonlyArray<readonly [string, string]> {
  return [['X-Content-Type-Options', 'nosniff'], ['X-Frame-Options', 'DENY'], ...(https ? [HSTS] : [])];
}
