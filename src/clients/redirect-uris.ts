import type { ProblemCode } from '../errors/problems.ts';

/** OpenID Connect Registration `application_type`: web (the default) or native (RFC 8252 apps). */
export const APPLICATION_TYPES = ['web', 'native'] as const;
export type ApplicationType = (typeof APPLICATION_TYPES)[number];

/** Schemes no client may be sent back to, whatever its type (they run or read things in the browser). */
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'vbscript:', 'data:', 'blob:', 'file:', 'about:']);
/** Where oidc-provider lets a native app pick its port at request time (RFC 8252 §7.3). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
/** RFC 8252 §7.1: a private-use scheme is a reverse domain name the app's owner controls (com.example.app). */
const REVERSE_DOMAIN_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/;

/** What isRedirectUriShape checks, as an OpenAPI pattern (a scheme, no fragment, not a forbidden scheme). */
export const REDIRECT_URI_PATTERN = '^(?!(?:javascript|vbscript|data|blob|file|about):)[a-zA-Z][a-zA-Z0-9+.-]*:[^#]+$';

/** An absolute URI without a fragment whose scheme cannot run anything: the shape every redirect URI has. */
export function isRedirectUriShape(value: string): boolean {
  const url = URL.parse(value);
  return url !== null && url.hash === '' && !value.includes('#') && !FORBIDDEN_SCHEMES.has(url.protocol);
}

/**
 * Why `value` cannot be a redirect (or post-logout redirect) URI of a client of this type, or
 * undefined when it can. Web clients: http(s). Native apps (RFC 8252): a private-use scheme in
 * reverse-domain style, http on a loopback address (any port at request time), or a claimed
 * https URI — the same rules oidc-provider applies when it loads the client, checked here so
 * the operator learns which field is wrong.
 */
export function redirectUriProblem(value: string, applicationType: ApplicationType): ProblemCode | undefined {
  const url = URL.parse(value);
  if (url === null || !isRedirectUriShape(value)) {
    return applicationType === 'web' ? 'redirect_uri_web' : 'redirect_uri';
  }
  if (applicationType === 'web') {
    return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : 'redirect_uri_web_scheme';
  }
  if (url.protocol === 'http:') return LOOPBACK_HOSTS.has(url.hostname) ? undefined : 'redirect_uri_http_loopback';
  if (url.protocol === 'https:') return LOOPBACK_HOSTS.has(url.hostname) ? 'redirect_uri_https_loopback' : undefined;
  return REVERSE_DOMAIN_SCHEME.test(url.protocol) ? undefined : 'redirect_uri_private_scheme';
}
