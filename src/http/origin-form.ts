/**
 * The origin form (`/path?query`) of an absolute-form request target (`http://host/path?query`,
 * RFC 9112 §3.2.2: what a proxy may send, and anyone can), else the target as it is (`*` stays).
 * The scheme and authority are dropped as they are, without any other normalization, so the path
 * is the one Koa read from the absolute form (`ctx.path`).
 *
 * Why: Koa's `ctx.href` of an absolute-form request is the target itself, so whatever builds URLs
 * from it — the provider's discovery document and redirects — would name the host the client
 * chose, around the issuer-only rule (src/oidc/mount.ts). Gatehouse never serves by the target's
 * host: the configured issuer and public URL are what it is.
 */
export function originForm(target: string): string {
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (authority === null) return target;
  const rest = target.slice(authority[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}
