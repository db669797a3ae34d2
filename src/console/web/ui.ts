/// <reference lib="dom" />
/** DOM building without innerHTML (nothing a server returns is ever parsed as markup) and the locale's strings. */

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

let strings: Record<string, string> = {};

export async function loadStrings(assets: string, locale: string): Promise<void> {
  const response = await fetch(`${assets}locales/${locale}.json`);
  strings = (await response.json()) as Record<string, string>;
}

/** A string of the locale file, `{name}` placeholders filled. */
export function t(key: string, values: Record<string, string> = {}): string {
  const template = strings[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_match, name: string) => values[name] ?? '');
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
