import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { countedKey, pluralForms, variantOf } from '../browser-app/web/plural.ts';
import { lastResults } from '../cache/last-results.ts';

/** The languages of the hosted pages; the first is the fallback. */
export const LOCALES = ['en', 'ru', 'zh-CN', 'ko'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

export type Messages = Readonly<Record<string, string>>;
/** A message by key, `{placeholders}` filled; `count` picks its form for that number (src/browser-app/web/plural.ts). */
export type Translate = (key: string, values?: Readonly<Record<string, string>>, count?: number) => string;

/** Reads views/locales/<locale>.json for every locale; a missing or malformed file stops startup. */
export function loadMessages(directory: string, locales: readonly string[] = LOCALES): Map<string, Messages> {
  const catalogs = new Map<string, Messages>();
  for (const locale of locales) {
    const parsed: unknown = JSON.parse(readFileSync(join(directory, `${locale}.json`), 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${locale}.json must hold an object of strings`);
    catalogs.set(locale, Object.freeze(Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, String(value)]))));
  }
  return catalogs;
}

const placeholderList = (text: string) => [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();
const placeholders = (text: string) => placeholderList(text).join(',');

/**
 * What is wrong with one number variant (`key[one]`, `key[=1]`) of a locale: a plain key the
 * reference lacks, a plural form the language does not have, placeholders the plain key does not
 * name (a variant may leave the number out: "at least one digit"), or no text.
 */
function variantProblems(locale: string, key: string, text: string, { base: plain, variant }: { base: string; variant: string }, base: Messages): string[] {
  if (!(plain in base)) return [`${locale}: unknown "${key}" (no "${plain}")`];
  const forms = pluralForms(locale);
  if (!/^=\d+$/.test(variant) && !forms.includes(variant)) {
    return [`${locale}: "${key}": ${locale} has no plural form "${variant}" (its forms: ${forms.length === 0 ? 'none but the plain key' : [...forms, '=N'].join(', ')}; the plain key is "other")`];
  }
  const allowed = placeholderList(base[plain]!);
  const extra = placeholderList(text).filter((name) => !allowed.includes(name));
  if (extra.length > 0) return [`${locale}: "${key}" has placeholders {${extra.join(',')}} that "${plain}" does not have`];
  return text.trim() === '' ? [`${locale}: "${key}" is empty`] : [];
}

/**
 * What is wrong with the catalogs compared with the reference locale: keys missing or extra,
 * translations whose {placeholders} differ, and number variants (`key[one]`, see
 * src/browser-app/web/plural.ts) that do not fit the language: a locale that varies a message by
 * number must give every plural form its language has (ru: one, few, many; en: one), and no other.
 * Empty when every language is complete.
 */
export function catalogProblems(catalogs: ReadonlyMap<string, Messages>, reference: string = DEFAULT_LOCALE): string[] {
  const base = catalogs.get(reference);
  if (base === undefined) return [`${reference}: reference locale missing`];
  const problems: string[] = [];
  for (const [locale, messages] of catalogs) {
    for (const key of Object.keys(base)) {
      if (variantOf(key) !== undefined) continue;
      if (!(key in messages)) problems.push(`${locale}: missing "${key}"`);
      else if (placeholders(messages[key]!) !== placeholders(base[key]!)) problems.push(`${locale}: "${key}" has placeholders {${placeholders(messages[key]!)}}, expected {${placeholders(base[key]!)}}`);
      else if (messages[key]!.trim() === '') problems.push(`${locale}: "${key}" is empty`);
    }
    const varied = new Set<string>();
    for (const [key, text] of Object.entries(messages)) {
      const variant = variantOf(key);
      if (variant === undefined) {
        if (!(key in base)) problems.push(`${locale}: unknown "${key}"`);
        continue;
      }
      problems.push(...variantProblems(locale, key, text, variant, base));
      if (!variant.variant.startsWith('=') && variant.base in base) varied.add(variant.base);
    }
    for (const plain of varied) {
      for (const form of pluralForms(locale)) if (!(`${plain}[${form}]` in messages)) problems.push(`${locale}: "${plain}" varies by number but has no "${plain}[${form}]"`);
    }
  }
  return problems;
}

function match(tag: string): Locale | undefined {
  const lower = tag.trim().toLowerCase();
  if (lower === '') return undefined;
  const exact = LOCALES.find((locale) => locale.toLowerCase() === lower);
  if (exact !== undefined) return exact;
  // zh, zh-Hans, zh-SG … all get Simplified Chinese; ru-RU gets ru; en-GB gets en.
  const language = lower.split('-')[0];
  return LOCALES.find((locale) => locale.toLowerCase().split('-')[0] === language);
}

/** Accept-Language tags by descending quality (ties keep their order). */
function acceptLanguageTags(header: string): string[] {
  return header
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const quality = q === undefined ? 1 : Number(q.slice(2));
      return { tag: tag.trim(), quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter((item) => item.quality > 0 && item.tag !== '*')
    .sort((a, b) => b.quality - a.quality || a.index - b.index)
    .map((item) => item.tag);
}

/**
 * The locale an Accept-Language header asks for first, if any. Parsed once per header value: a
 * browser sends the same header with every page, and a sign-in shows its page and posts its form
 * (both negotiate); a header longer than a real browser's is parsed every time and never held.
 */
const acceptedLocale = lastResults(
  (header: string): Locale | undefined => {
    for (const tag of acceptLanguageTags(header)) {
      const locale = match(tag);
      if (locale !== undefined) return locale;
    }
    return undefined;
  },
  { entries: 256, maxLength: 256 },
);

/** `ui_locales` (space-separated, in preference order) first, then Accept-Language, then English. */
export function negotiateLocale(uiLocales: unknown, acceptLanguage: string | undefined): Locale {
  if (typeof uiLocales === 'string') {
    for (const tag of uiLocales.split(' ')) {
      const locale = match(tag);
      if (locale !== undefined) return locale;
    }
  }
  return acceptedLocale(acceptLanguage ?? '') ?? DEFAULT_LOCALE;
}

/**
 * A translator for one locale; a key missing there falls back to English, then to the key. With a
 * count, the message's variant for that number is chosen (`key[=N]`, `key[one]`, …) in the
 * language the message is taken from.
 */
export function translator(catalogs: ReadonlyMap<string, Messages>, locale: Locale): Translate {
  const messages = catalogs.get(locale) ?? {};
  const fallback = catalogs.get(DEFAULT_LOCALE) ?? {};
  const pick = (key: string, count: number | undefined): string | undefined => {
    const [catalog, language] = key in messages ? [messages, locale] : [fallback, DEFAULT_LOCALE];
    return catalog[countedKey(key, count, language, (variant) => variant in catalog)];
  };
  return (key, values = {}, count) => (pick(key, count) ?? key).replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}
