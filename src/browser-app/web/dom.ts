/// <reference lib="dom" />
/** DOM building without innerHTML: nothing a server returns is ever parsed as markup. */

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
    element.append(child);
  }
  return element;
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

export const card = (labelId: string, heading: string, ...children: Child[]) =>
  h('section', { class: 'card', 'aria-labelledby': labelId }, h('h2', { id: labelId }, heading), ...children);

export function notice(text: string): HTMLElement {
  return h('p', { class: 'notice', role: 'status' }, text);
}

export function alertBox(...lines: string[]): HTMLElement {
  return h('div', { class: 'alert', role: 'alert' }, ...lines.map((line) => h('p', {}, line)));
}
