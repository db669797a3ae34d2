/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/** The console's DOM helpers and strings: the shared ones (browser-app/web) and its forms, tables and paging. */
import { h, type Child } from '../../browser-app/web/dom.ts';
import { dateTime, hasString, LOCALES, pickLocale, problemCount, t, type Locale } from '../../browser-app/web/i18n.ts';
import { ApiError, type FieldDetail } from '../../browser-app/web/api.ts';

export { card, h, notice, render } from '../../browser-app/web/dom.ts';
export { currentLocale, hasString, isolate, loadStrings, LOCALES, t, type Locale } from '../../browser-app/web/i18n.ts';
export type { FieldDetail } from '../../browser-app/web/api.ts';

const LOCALE_KEY = 'gatehouse.console.locale';

/** The operator's choice if they made one, else the browser's first language the console has. */
export function preferredLocale(): Locale {
  const chosen = localStorage.getItem(LOCALE_KEY);
  if ((LOCALES as readonly string[]).includes(chosen ?? '')) return chosen as Locale;
  return pickLocale(navigator.languages ?? [navigator.language]);
}

export function chooseLocale(locale: Locale): void {
  localStorage.setItem(LOCALE_KEY, locale);
}

/** A date and time in the operator's locale (the API speaks ISO 8601). */
export const when = (iso: string | null | undefined): string => dateTime(iso, 'medium');

/** The query part of the hash route (`#/users?q=ann&offset=20`). */
export function hashQuery(): URLSearchParams {
  return new URLSearchParams(location.hash.split('?')[1] ?? '');
}

// Form fields: every control's id is f-<API field name>, so a 400 that names a field finds it.

export function textField(name: string, label: string, value: unknown, options: { type?: string; hint?: string; required?: boolean; autocomplete?: string } = {}): HTMLElement {
  const hintId = options.hint === undefined ? undefined : `f-${name}-hint`;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: `f-${name}` }, label),
    h('input', { id: `f-${name}`, name, type: options.type ?? 'text', value: value === null || value === undefined ? '' : String(value), required: options.required, autocomplete: options.autocomplete ?? 'off', 'aria-describedby': hintId }),
    options.hint === undefined ? null : h('p', { class: 'hint', id: hintId }, options.hint),
  );
}

export function areaField(name: string, label: string, value: string, hint?: string): HTMLElement {
  const area = h('textarea', { id: `f-${name}`, name, 'aria-describedby': hint === undefined ? undefined : `f-${name}-hint`, spellcheck: 'false' }) as HTMLTextAreaElement;
  area.value = value;
  return h('div', { class: 'field' }, h('label', { for: `f-${name}` }, label), area, hint === undefined ? null : h('p', { class: 'hint', id: `f-${name}-hint` }, hint));
}

export function checkField(name: string, label: string, checked: boolean, hint?: string): HTMLElement {
  return h(
    'div',
    { class: 'field check' },
    h('input', { id: `f-${name}`, name, type: 'checkbox', checked, 'aria-describedby': hint === undefined ? undefined : `f-${name}-hint` }),
    h('label', { for: `f-${name}` }, label),
    hint === undefined ? null : h('p', { class: 'hint', id: `f-${name}-hint` }, hint),
  );
}

export function selectField(name: string, label: string, options: ReadonlyArray<readonly [string, string]>, selected: string | null | undefined): HTMLElement {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: `f-${name}` }, label),
    h('select', { id: `f-${name}`, name }, ...options.map(([value, text]) => h('option', { value, selected: value === (selected ?? '') }, text))),
  );
}

/**
 * The textarea line (from 1) that holds entry `index` of what `lines` made of it: blank lines are
 * not entries, so entry 1 of "a\n\nb" is on line 3. Any other control: index + 1.
 */
function lineOfEntry(control: HTMLElement | null | undefined, index: number): number {
  if (!(control instanceof HTMLTextAreaElement)) return index + 1;
  let entries = -1;
  const all = control.value.split('\n');
  for (let line = 0; line < all.length; line += 1) {
    if (all[line]!.trim() !== '') entries += 1;
    if (entries === index) return line + 1;
  }
  return index + 1;
}

/** Lines of a textarea, trimmed, empty ones dropped. */
export const lines = (value: FormDataEntryValue | null): string[] =>
  String(value ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

/**
 * Names of a list of roles or groups, separated by commas or lines ("admin, Order Manager"): a
 * role or group name may hold single spaces (src/roles/label-name.ts), so a space separates nothing.
 */
export const nameList = (value: FormDataEntryValue | null): string[] =>
  String(value ?? '')
    .split(/[,\n]+/)
    .map((name) => name.trim())
    .filter(Boolean);

/** Words of a list field ("admin, support" or "admin support"): scopes, domains. */
export const words = (value: FormDataEntryValue | null): string[] =>
  String(value ?? '')
    .split(/[\s,]+/)
    .map((word) => word.trim())
    .filter(Boolean);

/**
 * A field's problem in the page's language: the string for its code (`problem.<code>`, the
 * values filled in), else the API's English message (a code this console does not know yet).
 */
export function problemMessage(detail: FieldDetail): string {
  const key = `problem.${detail.code ?? ''}`;
  return detail.code !== undefined && hasString(key) ? t(key, detail.params ?? {}, problemCount(detail.params)) : detail.message;
}

/** An error without field details in the page's language: its problem code's string (a 404, a 409, a 503), else the generic text with its English message. */
export function wholeProblem(error: unknown): string {
  const problem = error instanceof ApiError ? error.problem : undefined;
  if (problem !== undefined && hasString(`problem.${problem.code}`)) return t(`problem.${problem.code}`, problem.params ?? {}, problemCount(problem.params));
  return t('error.generic', { message: error instanceof Error ? error.message : String(error) });
}

/** The text of a control's label (what the operator sees), without its own error paragraphs. */
function labelOf(form: HTMLElement | null | undefined, control: HTMLElement): string | undefined {
  const label = form?.querySelector(`label[for="${CSS.escape(control.id)}"]`);
  const text = label?.textContent?.trim();
  return text === undefined || text === '' ? undefined : text;
}

/**
 * Shows an admin API error: each field it names gets its message right under the control
 * (aria-invalid, aria-describedby), and a summary goes into the status box — both in the page's
 * language, the field named by its label.
 */
export function showError(form: HTMLElement | null, status: HTMLElement, error: unknown, details: readonly FieldDetail[] = []): void {
  if (form !== null) {
    for (const old of form.querySelectorAll('.field-error')) old.remove();
    for (const control of form.querySelectorAll('[aria-invalid]')) {
      control.removeAttribute('aria-invalid');
      const describedBy = (control.getAttribute('aria-describedby') ?? '').split(' ').filter((id) => id !== '' && !id.endsWith('-error'));
      if (describedBy.length === 0) control.removeAttribute('aria-describedby');
      else control.setAttribute('aria-describedby', describedBy.join(' '));
    }
  }
  const messages: HTMLElement[] = [];
  for (const detail of details) {
    // The control named by the whole path (f-claims.email) if there is one, else by its first segment.
    const exact = form?.querySelector<HTMLElement>(`#f-${CSS.escape(detail.path)}`);
    const name = exact !== null && exact !== undefined ? detail.path : (detail.path.split('.')[0] ?? detail.path);
    const control = exact ?? form?.querySelector<HTMLElement>(`#f-${CSS.escape(name)}`);
    const message = problemMessage(detail);
    // `redirect_uris.1` (or `role_mappings.1.role`) under a list control (a textarea, one entry a line): the line it is on.
    const index = name === detail.path ? undefined : /^(\d+)(?:\.|$)/.exec(detail.path.slice(name.length + 1))?.[1];
    const own = index === undefined ? message : t('field.line', { line: lineOfEntry(control, Number(index)), message });
    const label = control === null || control === undefined ? undefined : labelOf(form, control);
    const text = t('field.invalid', { field: label ?? detail.path, message: own });
    if (control !== null && control !== undefined) {
      const id = `f-${name}-error`;
      const earlier = form?.querySelector(`#${CSS.escape(id)}`);
      // Several messages for one control (two bad lines of a list) share its one error paragraph.
      if (earlier !== null && earlier !== undefined) earlier.append(h('br'), own);
      else {
        (control.closest('.field') ?? control).append(h('p', { class: 'field-error', id }, own));
        control.setAttribute('aria-invalid', 'true');
        control.setAttribute('aria-describedby', [control.getAttribute('aria-describedby'), id].filter(Boolean).join(' '));
      }
    }
    messages.push(h('p', {}, text));
  }
  if (messages.length === 0) messages.push(h('p', {}, wholeProblem(error)));
  status.replaceChildren(h('div', { class: 'alert', role: 'alert' }, ...messages));
}

/**
 * A table's scrolling box. While the table is wider than the box (a narrow screen, a language with
 * longer words), the box is a labelled region in the tab order so the keyboard can scroll it
 * (axe: scrollable-region-focusable); otherwise it adds no tab stop.
 */
export function tableWrap(label: string, content: HTMLElement): HTMLElement {
  const wrap = h('div', { class: 'table-wrap' }, content);
  const observer = new ResizeObserver(() => {
    const scrolls = wrap.scrollWidth > wrap.clientWidth;
    for (const [name, value] of [['tabindex', '0'], ['role', 'region'], ['aria-label', label]] as const) {
      if (scrolls) wrap.setAttribute(name, value);
      else wrap.removeAttribute(name);
    }
  });
  observer.observe(wrap);
  observer.observe(content);
  return wrap;
}

/**
 * A table whose columns are a header, `[header, 'optional']` (hidden on phones: only for a value
 * the row's own page shows too, a list's — nothing may be out of reach on a phone) or `[header,
 * 'actions']` (the row's buttons). Stacked on phones (base.css): one card per row, each value
 * under its column's name — but the buttons stand on their own, as on the account page: a
 * heading "Actions" over a button that names what it does reads like one more field.
 * `labelledBy`: the id of the heading right above that already names the table (a card's
 * "Consents", a list page's "Users"): the table takes its name from it, with no caption saying
 * it a second time.
 */
export function table(caption: string, columns: ReadonlyArray<string | readonly [string, 'optional' | 'actions']>, rows: ReadonlyArray<ReadonlyArray<Child>>, options: { readonly labelledBy?: string } = {}): HTMLElement {
  const kinds = columns.map((column) => (typeof column === 'string' ? undefined : column[1]));
  const labels = columns.map((column) => (typeof column === 'string' ? column : column[0]));
  const cellAttributes = (i: number) => (kinds[i] === 'actions' ? { class: 'actions' } : { class: kinds[i], 'data-label': labels[i] || undefined });
  return tableWrap(
    caption,
    h(
      'table',
      { class: 'stacked', 'aria-labelledby': options.labelledBy },
      options.labelledBy === undefined ? h('caption', { class: 'hint' }, caption) : null,
      h('thead', {}, h('tr', {}, ...labels.map((label, i) => h('th', { scope: 'col', class: kinds[i] === 'optional' ? 'optional' : undefined }, label)))),
      h('tbody', {}, ...rows.map((row) => h('tr', {}, ...row.map((cell, i) => h('td', cellAttributes(i), cell))))),
    ),
  );
}

/** A description list from label/value pairs. */
export function facts(pairs: ReadonlyArray<readonly [string, Child]>): HTMLElement {
  return h('dl', { class: 'facts' }, ...pairs.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value ?? '—')]));
}

/** A button that asks once more before it acts (destructive operations). */
export function confirmed(label: string, confirmLabel: string, action: () => void, detail?: HTMLElement): HTMLElement {
  const row = h('div', { class: 'confirm', hidden: true });
  const start = h('button', { type: 'button', class: 'danger', onclick: () => { row.hidden = false; row.querySelector('button')?.focus(); } }, label);
  // What the confirmation will do, said above its button and read with it (a client secret's grace period).
  if (detail !== undefined) row.append(detail);
  row.append(
    h('button', { type: 'button', class: 'danger', 'aria-describedby': detail?.id, onclick: () => { row.hidden = true; action(); } }, confirmLabel),
    h('button', { type: 'button', class: 'secondary', onclick: () => { row.hidden = true; start.focus(); } }, t('confirm.cancel')),
  );
  return h('div', {}, start, row);
}

/**
 * The card that deletes the page's object: a confirmed button, then the list page (`back`);
 * an error shows in the card. `id` names the heading (`<id>-heading`).
 */
export function deleteCard(options: { id: string; heading: string; text: string; button: string; confirm: string; remove: () => Promise<unknown>; back: string; details: (error: unknown) => readonly FieldDetail[] }): HTMLElement {
  const status = h('div', { role: 'status' });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': `${options.id}-heading` },
    h('h2', { id: `${options.id}-heading` }, options.heading),
    h('p', {}, options.text),
    confirmed(options.button, options.confirm, () =>
      void options.remove().then(
        () => {
          location.hash = options.back;
        },
        (error: unknown) => showError(null, status, error, options.details(error)),
      ),
    ),
    status,
  );
}

/** Previous/next links for offset paging. */
export function pager(base: string, query: URLSearchParams, offset: number, limit: number, total: number): HTMLElement | null {
  if (total <= limit) return null;
  const link = (to: number, text: string) => {
    const next = new URLSearchParams(query);
    next.set('offset', String(to));
    return h('a', { href: `${base}?${next.toString()}`, class: 'button-link' }, text);
  };
  return h(
    'nav',
    { class: 'pager', 'aria-label': t('pager.label') },
    offset > 0 ? link(Math.max(0, offset - limit), t('pager.previous')) : null,
    h('span', {}, t('pager.range', { from: total === 0 ? 0 : offset + 1, to: Math.min(total, offset + limit), total })),
    offset + limit < total ? link(offset + limit, t('pager.next')) : null,
  );
}
