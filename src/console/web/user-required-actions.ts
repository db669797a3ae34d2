/// <reference lib="dom" />
import type { UserResponse as User } from '../../admin/responses.ts';
import type { AdminApi } from './api.ts';
import { ApiError } from './api.ts';
import { checkField, h, showError, t } from './ui.ts';

/**
 * The names of src/accounts/required-actions.ts, in the order the sign-in asks for them: the
 * console's shell page carries them (data-required-actions, src/console/routes.ts), so this list
 * is never a copy to keep in step.
 */
export function requiredActionNames(body: HTMLElement = document.body): string[] {
  return (body.dataset.requiredActions ?? '').split(' ').filter((name) => name !== '');
}

/** The user page's required actions: a box per action, saved as the whole list (PATCH /users/{id} `required_actions`). */
export function requiredActionsForm(api: AdminApi, path: string, user: User, again: (text: string) => void): HTMLElement {
  const actions = requiredActionNames();
  const status = h('div', { role: 'status' });
  const form = h(
    'form',
    { 'aria-labelledby': 'required-actions-heading' },
    h('h2', { id: 'required-actions-heading' }, t('user.requiredActions.heading')),
    h('p', { class: 'hint' }, t('user.requiredActions.text')),
    ...actions.map((action) => checkField(`ra-${action}`, t(`user.requiredActions.${action}`), (user.required_actions as readonly string[]).includes(action))),
    h('button', { type: 'submit' }, t('user.requiredActions.save')),
    status,
  ) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const chosen = actions.filter((action) => data.get(`ra-${action}`) !== null);
    api.patch<User>(path, { required_actions: chosen }).then(
      () => again(t('user.requiredActions.saved')),
      (error: unknown) => showError(form, status, error, error instanceof ApiError ? error.details : []),
    );
  });
  return h('section', { class: 'card' }, form);
}
