import type { Middleware } from 'koa';
import { isPath } from '../routes/match.ts';
import type { RoutesTable } from '../routes/table.ts';

/**
 * Keycloak's session-status pages, which keycloak-js loads in hidden iframes during `init()`:
 *
 * - `3p-cookies/step1.html`: keycloak-js waits (up to `messageReceiveTimeout`, 10 s) for the
 *   frame to post `supported` or `unsupported`. Gatehouse does not track a session status an
 *   iframe could read, so the page answers `unsupported` at once: keycloak-js then turns its
 *   session-status iframe off and relies on the tokens (a sign-out elsewhere shows at the next
 *   refresh), exactly as it does in a browser that blocks third-party cookies.
 * - `login-status-iframe.html` (+ `/init`): only loaded by adapters that skip the check above;
 *   it answers `unchanged` to every status question for the same reason.
 *
 * The pages must be frameable by any application (they carry no data), so they lift
 * X-Frame-Options and set their own CSP; the scripts are separate same-origin files.
 */
const STEP1_SCRIPT = "window.parent.postMessage('unsupported', '*');\n";
const STEP2_SCRIPT = "window.parent.postMessage('unsupported', '*');\n";
const STATUS_SCRIPT = `window.addEventListener('message', function (event) {
  if (typeof event.data !== 'string' || event.data.split(' ').length !== 2) return;
  event.source.postMessage('unchanged', event.origin);
});
`;

function page(script: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"></head><body><script src="${script}"></script></body></html>\n`;
}

export function sessionStatusPages(routes: RoutesTable): Middleware {
  const paths = routes.sessionStatus;
  if (paths === undefined) return async (_ctx, next) => next();
  const { loginStatusIframe: status, thirdPartyCookies: cookies } = paths;
  const documents: Array<[string, string, string]> = [
    [`${cookies}/step1.html`, 'text/html', page(`${cookies}/step1.js`)],
    [`${cookies}/step1.js`, 'application/javascript', STEP1_SCRIPT],
    [`${cookies}/step2.html`, 'text/html', page(`${cookies}/step2.js`)],
    [`${cookies}/step2.js`, 'application/javascript', STEP2_SCRIPT],
    [status, 'text/html', page(`${status}.js`)],
    [`${status}.js`, 'application/javascript', STATUS_SCRIPT],
  ];
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (isPath(ctx.path, `${status}/init`)) {
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 204;
      return undefined;
    }
    const found = documents.find(([path]) => isPath(ctx.path, path));
    if (found === undefined) return next();
    ctx.remove('X-Frame-Options');
    ctx.set('Content-Security-Policy', "default-src 'none'; script-src 'self'; frame-ancestors *; base-uri 'none'");
    ctx.set('Cache-Control', 'no-cache, must-revalidate, no-transform, no-store');
    ctx.type = found[1];
    ctx.body = found[2];
    return undefined;
  };
}
