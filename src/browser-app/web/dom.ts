/// <reference lib="dom" />
/** DOM building without innerHTML: nothing a server returns is ever parsed as markup. */
import { needsIsolation } from './i18n.ts';

export type Child = Node | string | null | undefined | false;
export type Attributes = Record<string, string | boolean | ((event: Event) => void) | undefined>;

export function h(tag: string, attributes: Attributes = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' && !RAW.has(tag) && needsIsolation(child) ? isolated(child) : child);
  }
  return element;
}

/** Elements whose text is a value (sent back, or code), never a name in a sentence or list: left as given. */
const RAW = new Set(['textarea', 'option', 'script', 'style', 'bdi']);

/**
 * A text in its own `<bdi>` when it holds right-to-left letters or direction marks: a name in a
 * list cell or beside other words (a passkey, a user, a role, an app) keeps its direction marks
 * to itself instead of reversing what follows it on the line.
 */
const isolated = (text: string): HTMLElement => {
  const element = document.createElement('bdi');
  element.textContent = text;
  return element;
};

/** Replaces the page's content and moves focus to its heading (screen readers and keyboards follow). */
export function render(root: HTMLElement, ...children: Child[]): void {
  root.replaceChildren(...children.filter((child): child is Node | string => child !== null && child !== undefined && child !== false));
  const heading = root.querySelector('h1');
  if (heading !== null) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

export const card = (labelId: string, heading: string, ...children: Child[]) =>
  h('section', { class: 'card', 'aria-labelledby': labelId }, h('h2', { id: labelId }, heading), ...children);

export function notice(text: string): HTMLElement {
  return h('p', { class: 'notice', role: 'status' }, text);
}

export function alertBox(...lines: string[]): HTMLElement {
  return h('div', { class: 'alert', role: 'alert' }, ...lines.map((line) => h('p', {}, line)));
}
