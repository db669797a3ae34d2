/// <reference lib="dom" />
/** The account page's DOM helpers and strings: the shared ones (browser-app/web) and its own. */
import { h, type Attributes, type Child } from '../../browser-app/web/dom.ts';
import { currentLocale, dateTime, t } from '../../browser-app/web/i18n.ts';

export { alertBox, card, h, notice, render } from '../../browser-app/web/dom.ts';
export { hasString, loadStrings, LOCALES, pickLocale, t, type Locale } from '../../browser-app/web/i18n.ts';

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

/** A column of a stacked table: its heading, and whether it is the row's actions (no label of its own when stacked). */
export interface StackedColumn {
  readonly label: string;
  readonly kind?: 'actions';
}

/**
 * A table that becomes one card per row on narrow screens (account.css, `table.stacked`): each
 * cell then shows its column's name above its value, so long words (Russian column names and
 * dates) wrap between words instead of inside them, and no column has to hide.
 */
export function stackedTable(caption: string, columns: readonly StackedColumn[], rows: ReadonlyArray<{ readonly attributes?: Attributes; readonly cells: readonly Child[] }>): HTMLElement {
  return h(
    'table',
    { class: 'stacked' },
    h('caption', { class: 'hint' }, caption),
    h('thead', {}, h('tr', {}, ...columns.map((column) => h('th', { scope: 'col' }, column.label)))),
    h(
      'tbody',
      {},
      ...rows.map((row) =>
        h('tr', row.attributes ?? {}, ...row.cells.map((cell, i) => h('td', columns[i]?.kind === 'actions' ? { class: 'actions' } : { 'data-label': columns[i]?.label }, cell))),
      ),
    ),
  );
}
