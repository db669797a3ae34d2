/// <reference lib="dom" />
import type { FieldDetail } from '../../browser-app/web/api.ts';
import { ApiError, type AccountApi } from './api.ts';
import { beginSignIn, type AccountSettings } from './auth.ts';
import { problemCount } from '../../browser-app/web/i18n.ts';
import { alertBox, h, hasString, locale, t } from './ui.ts';

export { card } from './ui.ts';

/** What every section gets: where to draw, the API, the settings (for signing in again). */
export interface Section {
  readonly root: HTMLElement;
  readonly api: AccountApi;
  readonly settings: AccountSettings;
  /** Draws the whole page again (after the preferred language changed). */
  readonly restart: () => void;
}

/** The words of a field's name on the page (its label), else the API's field path. */
function fieldName(path: string): string {
  return hasString(`field.${path}`) ? t(`field.${path}`) : path;
}

/**
 * A field's problem in the reader's language, chosen by its code (the server's
 * src/errors/problems.ts), never by its English: the field's own sentence
 * (`problem.new_password.password_digits`, in the form its limit asks for: `[one]`, `[few]`, …),
 * else the code's (`problem.too_long`, which may name the field), else the field's name and the
 * API's English (a code this page does not know yet).
 */
function fieldMessage(detail: FieldDetail): string {
  const field = fieldName(detail.path);
  if (detail.code === undefined) return t('problem.field', { field, message: detail.message });
  const values = { ...detail.params, field };
  const count = problemCount(detail.params);
  const specific = `problem.${detail.path}.${detail.code}`;
  if (hasString(specific)) return t(specific, values, count);
  if (hasString(`problem.${detail.code}`)) return t(`problem.${detail.code}`, values, count);
  return t('problem.field', { field, message: detail.message });
}

/** An error as a whole (a 404, a 409, a 403) in the reader's language, by its code; else the generic text with the API's English. */
function wholeMessage(error: unknown): string {
  const problem = error instanceof ApiError ? error.problem : undefined;
  if (problem !== undefined && hasString(`problem.${problem.code}`)) return t(`problem.${problem.code}`, { ...problem.params }, problemCount(problem.params));
  return t('error.generic', { message: error instanceof Error ? error.message : String(error) });
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
  return alertBox(wholeMessage(error));
}

/** A labelled input; hints are tied to the input for screen readers. */
export function field(id: string, label: string, control: HTMLElement, hint?: string): HTMLElement {
  if (hint !== undefined) control.setAttribute('aria-describedby', `${id}-hint`);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint === undefined ? null : h('p', { class: 'hint', id: `${id}-hint` }, hint));
}
