/// <reference lib="dom" />
/** The account page's DOM helpers and strings: the shared ones (browser-app/web) and its own. */
import { h, type Attributes } from '../../browser-app/web/dom.ts';
import { currentLocale, dateTime, t } from '../../browser-app/web/i18n.ts';

export { alertBox, card, h, notice, render } from '../../browser-app/web/dom.ts';
export { loadStrings, LOCALES, pickLocale, t, type Locale } from '../../browser-app/web/i18n.ts';

export const locale = currentLocale;

/** A time as the reader's language writes it; a dash for none. */
export const when = (iso: string | null | undefined): string => dateTime(iso, 'short');

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
