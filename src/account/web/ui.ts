/// <reference lib="dom" />
/** DOM building without innerHTML (nothing a server returns is ever parsed as markup), the locale's strings, dates. */

type Child = Node | string | null | undefined | false;
type Attributes = Record<string, string | boolean | ((event: Event) => void) | undefined>;

export function h(tag: string, attributes: Attributes = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child);
  }
  return element;
}

export const LOCALES = ['en', 'ru', 'zh-CN', 'ko'] as const;
export type Locale = (typeof LOCALES)[number];

/** The first of the wanted languages the page speaks (`ru-RU` → `ru`, `zh-Hans-CN` → `zh-CN`); English otherwise. */
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
let current: Locale = 'en';

export async function loadStrings(assets: string, locale: Locale): Promise<void> {
  const response = await fetch(`${assets}locales/${locale}.json`);
  strings = (await response.json()) as Record<string, string>;
  current = locale;
  document.documentElement.lang = locale;
}

export const locale = () => current;

/** A string of the locale file, `{name}` placeholders filled. */
export function t(key: string, values: Record<string, string> = {}): string {
  const template = strings[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_match, name: string) => values[name] ?? '');
}

/** A time as the reader's language writes it; a dash for none. */
export function when(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** Replaces the page's content and moves focus to its heading (screen readers and keyboards follow). */
export function render(root: HTMLElement, ...children: Child[]): void {
  root.replaceChildren(...children.filter((child): child is Node | string => child !== null && child !== undefined && child !== false));
  const heading = root.querySelector('h1');
  if (heading !== null) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

export function notice(text: string): HTMLElement {
  return h('p', { class: 'notice', role: 'status' }, text);
}

export function alertBox(...lines: string[]): HTMLElement {
  return h('div', { class: 'alert', role: 'alert' }, ...lines.map((line) => h('p', {}, line)));
}

/**
 * A destructive action behind a second, explicit button (no window.confirm: it is keyboard- and
 * screen-reader-friendly, and the page keeps its focus).
 */
export function confirmed(label: string, confirmLabel: string, action: () => void, attributes: Attributes = {}): HTMLElement {
  const yes = h('button', { type: 'button', class: 'danger', onclick: () => action() }, confirmLabel);
  const row = h('span', { class: 'confirm', hidden: true }, yes, h('button', { type: 'button', class: 'secondary', onclick: () => ((row.hidden = true), first.focus()) }, t('common.cancel')));
  const first = h('button', { type: 'button', class: 'secondary', ...attributes, onclick: () => ((row.hidden = false), yes.focus()) }, label);
  return h('span', {}, first, row);
}
