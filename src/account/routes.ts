import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Middleware } from 'koa';
import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';

/** The account page's policy: scripts and styles from this origin, fetches to this origin, QR codes as data: images. */
export const ACCOUNT_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export const ACCOUNT_LOCALES = ['en', 'ru', 'zh-CN', 'ko'] as const;

export interface AccountPageDeps {
  /** The account page's path (routes table). */
  readonly path: string;
  readonly issuer: string;
  /** Absolute paths of what the page uses. */
  readonly endpoints: { readonly authorization: string; readonly token: string; readonly endSession: string; readonly api: string; readonly webauthn: string };
  /** Where the browser modules are: compiled .js next to this file in dist/, .ts sources in src/. */
  readonly webDir?: string;
}

const ASSET = /^([a-z][a-z0-9-]*)(\.js|\.css)$/;
const LOCALE = /^locales\/(en|ru|zh-CN|ko)\.json$/;
const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8' };

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

async function transpile(source: string): Promise<string> {
  const ts = (await import('typescript')).default;
  return ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, rewriteRelativeImportExtensions: true, verbatimModuleSyntax: true },
  }).outputText;
}

/**
 * The account page: one shell (what the page needs as data attributes, no inline script) and
 * its assets — browser modules, stylesheet, locale files. The page signs in like any public
 * client and reaches the account API with its own tokens.
 */
export function accountPage(deps: AccountPageDeps): Middleware {
  const webDir = deps.webDir ?? fileURLToPath(new URL('./web/', import.meta.url));
  const assets = `${deps.path}/assets/`;
  const cache = new Map<string, { body: string; type: string }>();
  const origin = new URL(deps.issuer).origin;
  const data: Record<string, string> = {
    'client-id': ACCOUNT_CLIENT_ID,
    account: `${origin}${deps.path}/`,
    authorize: deps.endpoints.authorization,
    token: deps.endpoints.token,
    'end-session': deps.endpoints.endSession,
    api: deps.endpoints.api,
    assets,
  };
  const shell = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Account</title>
<link rel="stylesheet" href="${assets}account.css">
<script src="${escapeAttribute(deps.endpoints.webauthn)}"></script>
<script type="module" src="${assets}app.js"></script>
</head>
<body ${Object.entries(data).map(([name, value]) => `data-${name}="${escapeAttribute(value)}"`).join(' ')}>
<div id="app" aria-live="polite"><noscript>The account page needs JavaScript.</noscript></div>
</body>
</html>
`;

  async function asset(name: string): Promise<{ body: string; type: string } | undefined> {
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    let found: { body: string; type: string } | undefined;
    const locale = LOCALE.exec(name);
    const match = ASSET.exec(name);
    if (locale !== null) {
      found = await readFile(join(webDir, 'locales', `${locale[1]}.json`), 'utf8').then((body) => ({ body, type: TYPES['.json']! }), () => undefined);
    } else if (match !== null) {
      const [, base, extension] = match as unknown as [string, string, string];
      if (extension === '.css') {
        found = await readFile(join(webDir, `${base}.css`), 'utf8').then((body) => ({ body, type: TYPES['.css']! }), () => undefined);
      } else {
        const compiled = await readFile(join(webDir, `${base}.js`), 'utf8').catch(() => undefined);
        const body = compiled ?? (await readFile(join(webDir, `${base}.ts`), 'utf8').then(transpile, () => undefined));
        if (body !== undefined) found = { body, type: TYPES['.js']! };
      }
    }
    if (found !== undefined) cache.set(name, found);
    return found;
  }

  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === deps.path) {
      ctx.redirect(`${deps.path}/${ctx.querystring === '' ? '' : `?${ctx.querystring}`}`);
      return;
    }
    if (ctx.path === `${deps.path}/`) {
      ctx.set('Content-Security-Policy', ACCOUNT_CSP);
      ctx.set('Cache-Control', 'no-store');
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = shell;
      return;
    }
    if (!ctx.path.startsWith(assets)) return next();
    const found = await asset(ctx.path.slice(assets.length));
    if (found === undefined) return next();
    ctx.set('Content-Security-Policy', ACCOUNT_CSP);
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = found.type;
    ctx.body = found.body;
  };
}
