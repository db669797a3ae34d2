import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import ejs from 'ejs';
import { variantOf } from '../browser-app/web/plural.ts';
import { LOCALES, loadMessages, negotiateLocale, translator, type Locale, type Messages, type Translate } from './i18n.ts';
import { themeStylesheet } from './theme.ts';
import { appName, breakable, htmlSentence, isolated, type HtmlFill } from './breakable.ts';

/** What the operator configured (GATEHOUSE_BRAND_*, GATEHOUSE_SUPPORT_URL). */
export interface Brand {
  readonly name: string;
  readonly logoUrl: string | undefined;
  readonly primaryColor: string;
  readonly supportUrl: string | undefined;
}

export interface PageModel {
  readonly title: string;
  readonly requestId?: string | undefined;
  readonly [key: string]: unknown;
}

export interface Views {
  /** A full page: views/pages/<page>.ejs (or `page` itself when it is an absolute path) inside views/layout.ejs, in `locale`. */
  render(page: string, locale: Locale, model: PageModel): Promise<string>;
  /**
   * An email: views/mail/<name>.html.ejs inside views/mail/layout.html.ejs, views/mail/<name>.txt.ejs
   * as its plain-text part, and the subject from the `mail.<name>.subject` string, in `locale`.
   */
  renderMail(name: string, locale: Locale, model: Readonly<Record<string, unknown>>): Promise<RenderedMail>;
  translate(locale: Locale): Translate;
  negotiate(uiLocales: unknown, acceptLanguage: string | undefined): Locale;
  readonly brand: Brand;
  readonly stylesheet: string;
  /** The passkey buttons' script (views/assets/passkey.js) and the WebAuthn browser library it drives. */
  readonly scripts: { readonly passkey: string; readonly webauthn: string };
  readonly theme: string;
  /** views/assets/gatehouse.js: the pages' only script (show-password toggle), served from 'self'. */
  readonly script: string;
  /** views/assets/favicon.svg. */
  readonly favicon: string;
  readonly paths: PagePaths;
}

export interface RenderedMail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export interface ViewsOptions {
  /** The built-in templates (the repository's views/). */
  readonly directory: string;
  /** An operator's directory: each file found there (same relative path) replaces the built-in one. */
  readonly overrides?: string | undefined;
  readonly brand: Brand;
  /** Where the hosted pages and their stylesheets are served (the routes table); templates read `paths`. */
  readonly paths?: PagePaths;
}

export interface PagePaths {
  readonly interaction: string;
  readonly assets: string;
}

/**
 * The built-in strings without the number variants (`key[one]`) of the messages an override sets:
 * an operator's own wording of a message replaces all its forms, not only the plain one.
 */
function withoutVariantsOf(builtIn: Messages, override: Messages): Messages {
  const overridden = new Set(Object.keys(override).map((key) => variantOf(key)?.base ?? key));
  return Object.fromEntries(Object.entries(builtIn).filter(([key]) => !overridden.has(variantOf(key)?.base ?? '')));
}

const DEFAULT_PATHS: PagePaths = { interaction: '/interaction', assets: '/assets' };

/**
 * EJS pages rendered inside layout.ejs; templates are compiled once and cached. Overrides are
 * resolved per file, so an operator can replace only the layout or only the stylesheet;
 * override locale files are merged key by key over the built-in strings.
 */
export function createViews({ directory, overrides, brand, paths = DEFAULT_PATHS }: ViewsOptions): Views {
  if (overrides !== undefined && !existsSync(overrides)) throw new Error(`GATEHOUSE_VIEWS_DIR: directory ${overrides} does not exist`);
  const resolve = (relative: string) => {
    const own = overrides === undefined ? undefined : join(overrides, relative);
    return own !== undefined && existsSync(own) ? own : join(directory, relative);
  };
  const catalogs = loadMessages(join(directory, 'locales'));
  if (overrides !== undefined) {
    for (const locale of LOCALES) {
      const own = join(overrides, 'locales', `${locale}.json`);
      if (!existsSync(own)) continue;
      const extra = loadMessages(join(overrides, 'locales'), [locale]).get(locale) as Messages;
      catalogs.set(locale, Object.freeze({ ...withoutVariantsOf(catalogs.get(locale) ?? {}, extra), ...extra }));
    }
  }
  const layoutPath = resolve('layout.ejs');
  const options = { cache: true, async: false } as const;
  return {
    brand,
    stylesheet: readFileSync(resolve(join('assets', 'gatehouse.css')), 'utf8'),
    scripts: {
      passkey: readFileSync(resolve(join('assets', 'passkey.js')), 'utf8'),
      // @simplewebauthn/browser's own bundle, served from this origin (no CDN); its package
      // exports hide the file, so it is found next to the package's entry point.
      webauthn: readFileSync(join(dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '..', 'dist', 'bundle', 'index.umd.min.js'), 'utf8'),
    },
    script: readFileSync(resolve(join('assets', 'gatehouse.js')), 'utf8'),
    favicon: readFileSync(resolve(join('assets', 'favicon.svg')), 'utf8'),
    paths,
    theme: themeStylesheet(brand.primaryColor),
    translate: (locale) => translator(catalogs, locale),
    negotiate: negotiateLocale,
    async render(page, locale, model) {
      const t = translator(catalogs, locale);
      const sentence = (key: string, values: Readonly<Record<string, string>>, fills?: Readonly<Record<string, HtmlFill>>): string => htmlSentence(t, key, values, fills);
      const data = { ...model, locale, t, brand, paths, appName, breakable, isolated, sentence };
      const body = await ejs.renderFile(isAbsolute(page) ? page : resolve(join('pages', `${page}.ejs`)), data, options);
      return ejs.renderFile(layoutPath, { ...data, body }, options);
    },
    async renderMail(name, locale, model) {
      const t = translator(catalogs, locale);
      const subject = t(`mail.${name}.subject`, stringValues(model));
      const data = { ...model, locale, t, brand, subject };
      const sentence = (key: string, values: Readonly<Record<string, string>>, fills?: Readonly<Record<string, HtmlFill>>): string => htmlSentence(t, key, values, fills);
      const content = await ejs.renderFile(resolve(join('mail', `${name}.html.ejs`)), { ...data, sentence, isolated }, options);
      const html = await ejs.renderFile(resolve(join('mail', 'layout.html.ejs')), { ...data, body: content }, options);
      // The plain-text part is not HTML: nothing to escape.
      const text = await ejs.renderFile(resolve(join('mail', `${name}.txt.ejs`)), data, { ...options, escape: (value: unknown) => String(value) });
      return { subject, html, text };
    },
  };
}

const stringValues = (model: Readonly<Record<string, unknown>>): Record<string, string> =>
  Object.fromEntries(Object.entries(model).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
