import type { Middleware } from 'koa';

/**
 * Behind a TLS proxy the connection Gatehouse sees is plain HTTP, and not every proxy sends
 * X-Forwarded-Proto. Like the provider mount (src/oidc/mount.ts), take the scheme from the
 * issuer: when it is https, cookies are Secure whatever the connection says (Koa would
 * otherwise refuse to set them and the hosted pages would fail).
 */
export function issuerScheme(issuer: string): Middleware {
  const https = new URL(issuer).protocol === 'https:';
  return (ctx, next) => {
    if (https) ctx.cookies.secure = true;
    return next();
  };
}
