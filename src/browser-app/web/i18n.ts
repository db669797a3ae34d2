/// <reference lib="dom" />
import { countedKey } from './plural.ts';

/** The locale's strings (English for any key a locale lacks) and dates in the reader's language. */

export const LOCALES = ['en', 'ru', 'zh-CN', 'ko'] as const;
export type Locale = (typeof LOCALES)[number];

/** The first of the wanted languages the app speaks (`ru-RU` → `ru`, `zh-Hans-CN` → `zh-CN`); English otherwise. */
export function pickLocale(wanted: readonly (string | null | undefined)[]): Locale {
  for (const raw of wanted) {
    if (raw === null || raw === undefined || raw === '') continue;
    const tag = raw.toLowerCase();
    if (tag.startsWith('zh')) return 'zh-CN';
    const found = LOCALES.find((locale) => locale.toLowerCase() === tag || tag.startsWith(`${locale.toLowerCase()}-`));
    if (found !== undefined) return found;
  }
  return 'en';
}

let strings: Record<string, string> = {};
let fallback: Record<string, string> = {};
let current: Locale = 'en';

export function currentLocale(): Locale {
  return current;
}

async function fetchStrings(assets: string, locale: string): Promise<Record<string, string>> {
  const response = await fetch(`${assets}locales/${locale}.json`);
  return response.ok ? ((await response.json()) as Record<string, string>) : {};
}

/** Loads the app's locale file (and English as the fallback) and sets the document's language. */
export async function loadStrings(assets: string, locale: Locale): Promise<void> {
  const english = await fetchStrings(assets, 'en');
  useStrings(locale, locale === 'en' ? english : await fetchStrings(assets, locale), english);
  document.documentElement.lang = locale;
}

/** Speaks `locale` with these strings, English's for any key they lack (loadStrings; tests give them directly). */
export function useStrings(locale: Locale, own: Record<string, string>, english: Record<string, string>): void {
  strings = own;
  fallback = english;
  current = locale;
}

/**
 * Right-to-left letters (Hebrew, Arabic, Syriac, Thaana, N'Ko, ... and their presentation forms)
 * and the invisible direction marks, embeddings, overrides and isolates: text holding any of them
 * can change the order of the words around it.
 */
const BIDI = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFE\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u{10800}-\u{10FFF}\u{1E800}-\u{1EFFF}]/u;

/** Whether a text someone chose could turn the sentence or list around it (see BIDI). */
export const needsIsolation = (text: string): boolean => BIDI.test(text);

/**
 * A name inside plain text (a sentence, a button's label, a heading): between FIRST STRONG
 * ISOLATE and POP DIRECTIONAL ISOLATE, Unicode's plain-text `<bdi>`, when it holds right-to-left
 * text or direction marks (a U+202E in a passkey's name would otherwise read "was added."
 * backwards); left as it is otherwise, where isolating changes nothing.
 */
export const isolate = (text: string): string => (needsIsolation(text) ? `\u2068${text}\u2069` : text);

/**
 * A string of the locale file, `{name}` placeholders filled, each value isolated (isolate()); with
 * a count, the string's variant for that number (`key[one]`, `key[=1]`: ./plural.ts).
 */
export function t(key: string, values: Record<string, string | number> = {}, count?: number): string {
  const [catalog, language] = key in strings ? [strings, current] : [fallback, 'en'];
  const template = catalog[countedKey(key, count, language, (variant) => variant in catalog)] ?? key;
  return template.replace(/\{(\w+)\}/g, (_match, name: string) => isolate(String(values[name] ?? '')));
}

/** The number a problem's text counts (its `limit`, `min` or `max`), which picks the text's plural form. */
export function problemCount(params: Readonly<Record<string, unknown>> | undefined): number | undefined {
  const count = params?.limit ?? params?.min ?? params?.max;
  return typeof count === 'number' ? count : undefined;
}

/** Whether the app has the string (in the locale or in English). */
export function hasString(key: string): boolean {
  return key in strings || key in fallback;
}

/** A date and time as the reader's language writes it (the APIs speak ISO 8601); a dash for none. */
export function dateTime(iso: string | null | undefined, timeStyle: 'short' | 'medium'): string {
  if (iso === null || iso === undefined) return '—';
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle }).format(new Date(iso));
}
