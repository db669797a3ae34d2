/// <reference lib="dom" />
import { ApiError, type AccountApi } from './api.ts';
import { beginSignIn, type AccountSettings } from './auth.ts';
import { alertBox, h, locale, t } from './ui.ts';

export { card } from './ui.ts';

/** What every section gets: where to draw, the API, the settings (for signing in again). */
export interface Section {
  readonly root: HTMLElement;
  readonly api: AccountApi;
  readonly settings: AccountSettings;
  /** Draws the whole page again (after the preferred language changed). */
  readonly restart: () => void;
}

/** A localized message for an API field error: a specific one when the locale has it, else field + server text. */
function fieldMessage(detail: { path: string; message: string; limit?: number }): string {
  const specific = `problem.${detail.path}.${detail.message}`;
  const n: Record<string, string> = detail.limit === undefined ? {} : { n: String(detail.limit) };
  // A count of one reads better on its own (`…one`), where the language has such a string.
  const one = `${specific}.one`;
  if (detail.limit === 1 && t(one) !== one) return t(one);
  const text = t(specific, n);
  if (text !== specific) return text;
  const label = t(`field.${detail.path}`);
  return t('problem.field', { field: label === `field.${detail.path}` ? detail.path : label, message: detail.message });
}

/** What went wrong, said in the reader's language; a stale sign-in gets a button to sign in again. */
export function problem(section: Section, error: unknown): HTMLElement {
  if (error instanceof ApiError) {
    if (error.needsSignInAgain) {
      return h(
        'div',
        { class: 'alert', role: 'alert' },
        h('p', {}, t('reauth.text')),
        h('button', { type: 'button', onclick: () => void beginSignIn(section.settings, { again: true, locale: locale() }) }, t('reauth.button')),
      );
    }
    if (error.status === 503) return alertBox(t('error.unavailable'));
    if (error.status === 401) return alertBox(t('error.signedOut'));
    if (error.details.length > 0) return alertBox(...error.details.map(fieldMessage));
  }
  return alertBox(t('error.generic', { message: error instanceof Error ? error.message : String(error) }));
}

/** A labelled input; hints are tied to the input for screen readers. */
export function field(id: string, label: string, control: HTMLElement, hint?: string): HTMLElement {
  if (hint !== undefined) control.setAttribute('aria-describedby', `${id}-hint`);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint === undefined ? null : h('p', { class: 'hint', id: `${id}-hint` }, hint));
}
