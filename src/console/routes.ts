import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Middleware } from 'koa';
import { CONSOLE_CLIENT_ID } from './client.ts';

/** The console's own policy: its scripts and styles from this origin, fetches to this origin only. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export interface ConsoleRoutesDeps {
  /** The console's path (routes table). */
  readonly path: string;
  readonly issuer: string;
  /** Absolute paths of the endpoints the console uses. */
  readonly endpoints: { readonly authorization: string; readonly token: string; readonly revocation: string; readonly endSession: string; readonly admin: string };
  /** GATEHOUSE_CONSOLE_IDLE_TIMEOUT: the console signs out after this many seconds without activity. */
  readonly idleTimeoutSeconds?: number;
  /** The admin API's identifier (the `resource` the console asks tokens for). */
  readonly adminAudience: string;
  /** Where the browser modules are: compiled .js next to this file in dist/, .ts sources in src/. */
  readonly webDir?: string;
}

const ASSET = /^([a-z][a-z0-9-]*)(\.js|\.ts|\.css|\.json)$/;
const LOCALE = /^locales\/([a-zA-Z-]+)\.json$/;
const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.ts': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8' };

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** Compiles a browser module from its TypeScript source (development and tests; dist/ ships .js). */
async function transpile(source: string): Promise<string> {
  const ts = (await import('typescript')).default;
  return ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, rewriteRelativeImportExtensions: true, verbatimModuleSyntax: true },
  }).outputText;
}

/**
 * The admin console: one page (the app's shell, with the endpoints it needs as data attributes,
 * no inline script) and its assets — browser modules, stylesheet, locale files.
 */
export function consoleRoutes(deps: ConsoleRoutesDeps): Middleware {
  const webDir = deps.webDir ?? fileURLToPath(new URL('./web/', import.meta.url));
  const assets = `${deps.path}/assets/`;
  const cache = new Map<string, { body: string; type: string }>();
  const origin = new URL(deps.issuer).origin;
  const shell = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatehouse console</title>
<link rel="stylesheet" href="${assets}console.css">
<script type="module" src="${assets}app.js"></script>
</head>
<body data-client-id="${CONSOLE_CLIENT_ID}" data-console="${escapeAttribute(`${origin}${deps.path}/`)}" data-authorize="${escapeAttribute(deps.endpoints.authorization)}" data-token="${escapeAttribute(deps.endpoints.token)}" data-revocation="${escapeAttribute(deps.endpoints.revocation)}" data-idle="${deps.idleTimeoutSeconds ?? 900}" data-end-session="${escapeAttribute(deps.endpoints.endSession)}" data-admin="${escapeAttribute(deps.endpoints.admin)}" data-resource="${escapeAttribute(deps.adminAudience)}" data-assets="${escapeAttribute(assets)}">
<div id="app" aria-live="polite"><noscript>The Gatehouse console needs JavaScript.</noscript></div>
</body>
</html>
`;

  async function asset(name: string): Promise<{ body: string; type: string } | undefined> {
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    const locale = LOCALE.exec(name);
    let found: { body: string; type: string } | undefined;
    if (locale !== null) {
      found = await readFile(join(webDir, 'locales', `${locale[1]}.json`), 'utf8').then((body) => ({ body, type: TYPES['.json']! }), () => undefined);
    } else {
      const match = ASSET.exec(name);
      if (match === null) return undefined;
      const [, base, extension] = match as unknown as [string, string, string];
      if (extension === '.css' || extension === '.json') {
        found = await readFile(join(webDir, `${base}${extension}`), 'utf8').then((body) => ({ body, type: TYPES[extension]! }), () => undefined);
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
      ctx.set('Content-Security-Policy', CONSOLE_CSP);
      ctx.set('Cache-Control', 'no-store');
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = shell;
      return;
    }
    if (!ctx.path.startsWith(assets)) return next();
    const found = await asset(ctx.path.slice(assets.length));
    if (found === undefined) return next();
    ctx.set('Content-Security-Policy', CONSOLE_CSP);
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = found.type;
    ctx.body = found.body;
  };
}
