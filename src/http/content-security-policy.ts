export const CSP_HEADER = 'Content-Security-Policy';
const HEADER = CSP_HEADER;

export interface HeaderAccess {
  get(field: string): string;
  set(field: string, value: string): void;
}

/**
 * The policy every response starts with (src/http/edge.ts sets it): no inline script or style
 * anywhere; forms post to this origin only. The provider's form_post page adds the hash of its
 * one inline script itself (it does so only when script-src is already present, hence 'self'
 * here); pages whose forms end in a redirect to an application widen form-action with
 * allowFormTargets.
 */
export function basePolicy(imageSources: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // Client logos (logo_uri) live on any https origin.
    ['img-src', "'self'", 'data:', 'https:', ...imageSources].join(' '),
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/**
 * The policy of the OAuth endpoints' JSON answers (src/http/edge.ts): nothing may be loaded or run
 * from them and no page may frame them — what a policy can say about a document with no scripts,
 * styles, images or forms, in 42 bytes instead of the pages' 145 on every token, introspection and
 * userinfo answer (docs/PERFORMANCE.md, perf21u).
 */
export const JSON_ENDPOINT_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** The last policy each sources list widened, and the result (see allowFormTargets). */
const widenedBySources = new WeakMap<readonly string[], { readonly policy: string; readonly widened: string }>();

/**
 * Chromium applies form-action to every redirect that follows a form submission, so a sign-in
 * POST → 303 /auth/:uid → 303 https://app.example/callback is blocked unless the page that
 * held the form allowed the application's origin. Adds these sources to form-action.
 *
 * Every sign-in page does this with the same policy (the edge's) and its client's sources (the
 * same array for the same client: src/oidc/form-targets.ts), so the widened policy is kept per
 * sources array, for the policy it was made from: another policy (a page that changed the header
 * first) is widened afresh. The result depends only on the two strings, never on the request.
 */
export function allowFormTargets(response: HeaderAccess, sources: readonly string[]): void {
  const policy = response.get(HEADER);
  if (policy === '' || sources.length === 0) return;
  const last = widenedBySources.get(sources);
  if (last !== undefined && last.policy === policy) return response.set(HEADER, last.widened);
  const widened = widenFormAction(policy, sources);
  widenedBySources.set(sources, { policy, widened });
  response.set(HEADER, widened);
}

function widenFormAction(policy: string, sources: readonly string[]): string {
  const directives = policy.split(';').map((directive) => directive.trim()).filter(Boolean);
  return directives
    .map((directive) => {
      const [name, ...values] = directive.split(/\s+/);
      if (name !== 'form-action') return directive;
      return [name, ...new Set([...values, ...sources])].join(' ');
    })
    .join('; ');
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * CSP sources for redirect URIs: the origin for http(s) URIs, any port on loopback for native
 * apps (RFC 8252 lets them pick the port), the scheme for private-use schemes (com.example.app:/cb).
 */
export function redirectSources(uris: readonly string[], { native = false }: { native?: boolean } = {}): string[] {
  const sources = new Set<string>();
  for (const uri of uris) {
    if (!URL.canParse(uri)) continue;
    const url = new URL(uri);
    if (url.protocol === 'http:' || url.protocol === 'https:') {
      sources.add(native && LOOPBACK.has(url.hostname) ? `${url.protocol}//${url.hostname}:*` : url.origin);
    } else if (/^[a-z][a-z0-9+.-]*:$/.test(url.protocol)) {
      sources.add(url.protocol);
    }
  }
  return [...sources];
}
