import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join, relative, sep } from 'node:path';
import type { Context, Middleware } from 'koa';
import { processBrowserModules, type BrowserModules } from './modules.ts';

/**
 * The policy of a browser app's shell and assets: its scripts and styles from this origin,
 * fetches to this origin only, QR codes as data: images.
 */
export const BROWSER_APP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** What the app's one page carries: no inline script, its settings as data attributes. */
export interface BrowserAppShell {
  readonly title: string;
  /** The app's own stylesheet in its web folder (after the shared base.css). */
  readonly stylesheet: string;
  /**
   * Further `data-*` attributes of <body> (name without `data-`), after the ones every app has:
   * client-id, app (its URL: redirect and post-logout URI), authorize, token, end-session, assets.
   */
  readonly data: Readonly<Record<string, string>>;
  /**
   * Further `data-*` attributes that depend on the request (the account page's "Back to <app>"
   * from its query); escaped like every other, and never in place of one of those.
   */
  readonly requestData?: (ctx: Context) => Promise<Readonly<Record<string, string>>>;
  /** Classic scripts loaded before the app's module (absolute paths). */
  readonly scripts?: readonly string[];
  /** What a browser without JavaScript shows. */
  readonly noscript: string;
}

/** The public client the app signs in as, and the provider endpoints it uses (absolute paths). */
export interface BrowserAppClient {
  readonly id: string;
  readonly authorization: string;
  readonly token: string;
  readonly endSession: string;
}

export interface BrowserAppDeps {
  /** The app's path (routes table); its assets are under `<path>/assets/`. */
  readonly path: string;
  readonly issuer: string;
  readonly client: BrowserAppClient;
  /** The app's browser modules, stylesheet and locales: compiled .js in dist/, .ts sources in src/. */
  readonly webDir: string | URL;
  readonly csp?: string;
  readonly shell: BrowserAppShell;
  /** The shared browser modules (this folder's web/); tests may point elsewhere. */
  readonly sharedDir?: string;
  /** Where modules are read and compiled; the process's by default (modules.ts). */
  readonly modules?: BrowserModules;
}

/** A browser app's routes, and what makes its first page load fast: every asset read (and compiled) ahead. */
export type BrowserApp = Middleware & {
  /** Reads every asset of the app now (a server awaits this before it listens). */
  prepare(): Promise<void>;
};

/** Where the shared modules appear under an app's assets. */
const SHARED = 'browser-app/';
const MODULE = /^([a-z][a-z0-9-]*)(\.js|\.css)$/;
const LOCALE = /^locales\/([a-zA-Z-]+)\.json$/;
const TYPES = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', json: 'application/json; charset=utf-8' } as const;

interface Asset {
  readonly body: string;
  readonly type: string;
}

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const readText = (file: string) => readFile(file, 'utf8').catch(() => undefined);

/**
 * A browser app (the account page, the console): one shell page at `<path>/` and its assets at
 * `<path>/assets/` — the app's browser modules, stylesheet and locale files, and the shared
 * modules and base stylesheet of src/browser-app/web/ under `<path>/assets/browser-app/`. An
 * app module imports a shared one by its source path (`../../browser-app/web/ui.ts`), which
 * is rewritten to `./browser-app/ui.js` as the module is served, so the URL stays under the
 * app's own assets wherever the routes table puts the app.
 */
export function serveBrowserApp(deps: BrowserAppDeps): BrowserApp {
  const csp = deps.csp ?? BROWSER_APP_CSP;
  const sharedDir = deps.sharedDir ?? fileURLToPath(new URL('./web/', import.meta.url));
  const webDir = typeof deps.webDir === 'string' ? deps.webDir : fileURLToPath(deps.webDir);
  const assets = `${deps.path}/assets/`;
  const toShared = relative(webDir, sharedDir).split(sep).join('/');
  const sharedImport = new RegExp(`(['"])${escapeRegExp(toShared)}/`, 'g');
  const cache = new Map<string, Asset>();
  const modules = deps.modules ?? processBrowserModules;
  const shell = deps.shell;
  const data: Record<string, string> = {
    'client-id': deps.client.id,
    app: `${new URL(deps.issuer).origin}${deps.path}/`,
    authorize: deps.client.authorization,
    token: deps.client.token,
    'end-session': deps.client.endSession,
    ...shell.data,
    assets,
  };
  const page = (extra: Readonly<Record<string, string>>) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeAttribute(shell.title)}</title>
<link rel="stylesheet" href="${assets}${SHARED}base.css">
<link rel="stylesheet" href="${assets}${escapeAttribute(shell.stylesheet)}">
${(shell.scripts ?? []).map((src) => `<script src="${escapeAttribute(src)}"></script>\n`).join('')}<script type="module" src="${assets}app.js"></script>
</head>
<body ${Object.entries({ ...extra, ...data }).map(([name, value]) => `data-${name}="${escapeAttribute(value)}"`).join(' ')}>
<div id="app" aria-live="polite"><noscript>${escapeAttribute(shell.noscript)}</noscript></div>
</body>
</html>
`;
  const shellPage = page({});

  async function load(name: string): Promise<Asset | undefined> {
    const shared = name.startsWith(SHARED);
    const dir = shared ? sharedDir : webDir;
    const file = shared ? name.slice(SHARED.length) : name;
    const locale = shared ? null : LOCALE.exec(file);
    if (locale !== null) {
      const body = await readText(join(dir, 'locales', `${locale[1]}.json`));
      return body === undefined ? undefined : { body, type: TYPES.json };
    }
    const match = MODULE.exec(file);
    if (match === null) return undefined;
    const [, base, extension] = match as unknown as [string, string, string];
    if (extension === '.css') {
      const body = await readText(join(dir, `${base}.css`));
      return body === undefined ? undefined : { body, type: TYPES.css };
    }
    const body = await modules.module(dir, base);
    if (body === undefined) return undefined;
    return { body: shared ? body : body.replace(sharedImport, `$1./${SHARED}`), type: TYPES.js };
  }

  async function asset(name: string): Promise<Asset | undefined> {
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    const found = await load(name);
    if (found !== undefined) cache.set(name, found);
    return found;
  }

  const serve: Middleware = async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === deps.path) {
      ctx.redirect(`${deps.path}/${ctx.querystring === '' ? '' : `?${ctx.querystring}`}`);
      return;
    }
    if (ctx.path === `${deps.path}/`) {
      ctx.set('Content-Security-Policy', csp);
      ctx.set('Cache-Control', 'no-store');
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = shell.requestData === undefined ? shellPage : page(await shell.requestData(ctx));
      return;
    }
    if (!ctx.path.startsWith(assets)) return next();
    const found = await asset(ctx.path.slice(assets.length));
    if (found === undefined) return next();
    ctx.set('Content-Security-Policy', csp);
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = found.type;
    ctx.body = found.body;
  };

  /** Every asset name the app serves: its modules, stylesheets and locales, and the shared modules and stylesheet. */
  async function assetNames(): Promise<string[]> {
    const list = (dir: string) => readdir(dir).catch(() => [] as string[]);
    const asServed = (name: string) => name.replace(/\.ts$/, '.js');
    const own = (await list(webDir)).map(asServed).filter((name) => MODULE.test(name));
    const locales = (await list(join(webDir, 'locales'))).map((name) => `locales/${name}`).filter((name) => LOCALE.test(name));
    const shared = (await list(sharedDir)).map(asServed).filter((name) => MODULE.test(name)).map((name) => `${SHARED}${name}`);
    return [...new Set([...own, ...locales, ...shared])];
  }

  return Object.assign(serve, {
    async prepare() {
      for (const name of await assetNames()) await asset(name);
    },
  });
}
