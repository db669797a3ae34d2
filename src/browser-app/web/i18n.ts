/// <reference lib="dom" />
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
  fallback = await fetchStrings(assets, 'en');
  strings = locale === 'en' ? fallback : await fetchStrings(assets, locale);
  current = locale;
  document.documentElement.lang = locale;
}

/** A string of the locale file, `{name}` placeholders filled. */
export function t(key: string, values: Record<string, string | number> = {}): string {
  const template = strings[key] ?? fallback[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_match, name: string) => String(values[name] ?? ''));
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
