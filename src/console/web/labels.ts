/// <reference lib="dom" />
import type { LabelResponse as Label, SettingsGroupResponse } from '../../admin/responses.ts';
import { ApiError, type AdminApi } from './api.ts';
import { confirmed, h, notice, render, showError, t, table, textField } from './ui.ts';

type Kind = 'roles' | 'groups';
const details = (error: unknown) => (error instanceof ApiError ? error.details : []);

/** Roles and groups: the same page twice (users get them on their own page). */
async function labelSection(root: HTMLElement, api: AdminApi, kind: Kind, reload: (message: string) => void): Promise<HTMLElement> {
  const [labels, mfa] = await Promise.all([api.get<Label[]>(`/${kind}`), api.get<SettingsGroupResponse>('/settings/mfa')]);
  // Deleting a role or group that requires a second factor also stops requiring it: the confirmation says so.
  const requiring = new Set((mfa.settings[kind === 'roles' ? 'mfa_required_roles' : 'mfa_required_groups']?.value as string[] | undefined) ?? []);
  const confirmKey = (name: string) => (requiring.has(name) ? `${kind}.delete.confirmMfa` : kind === 'roles' ? 'roles.delete.confirm' : 'labels.delete.confirm');
  const status = h('div', { role: 'status' });
  const form = h(
    'form',
    { 'aria-labelledby': `new-${kind}-heading`, class: 'subform' },
    h('h3', { id: `new-${kind}-heading` }, t(`${kind}.new.heading`)),
    textField(`${kind}-name`, t('labels.field.name'), '', { required: true }),
    textField(`${kind}-description`, t('labels.field.description'), ''),
    h('button', { type: 'submit' }, t(`${kind}.new.create`)),
    status,
  ) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    api.post(`/${kind}`, { name: String(data.get(`${kind}-name`) ?? '').trim(), description: String(data.get(`${kind}-description`) ?? '') }).then(
      () => reload(t(`${kind}.created`)),
      (error: unknown) => showError(form, status, error, details(error).map((detail) => ({ ...detail, path: `${kind}-${detail.path}` }))),
    );
  });
  const rowStatus = h('div', { role: 'status' });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': `${kind}-heading` },
    h('h2', { id: `${kind}-heading` }, t(`${kind}.heading`)),
    labels.length === 0
      ? h('p', {}, t(`${kind}.empty`))
      : table(
          t(`${kind}.heading`),
          [t('labels.field.name'), t('labels.field.description'), t('users.heading'), [t('actions'), 'actions']],
          labels.map((label) => [
            h('code', {}, label.name),
            // An empty description: a muted dash, not a column name over nothing on a phone's card.
            label.description.trim() === '' ? h('span', { class: 'none' }, '—') : label.description,
            h('a', { href: `#/users?${new URLSearchParams({ [kind === 'roles' ? 'role' : 'group']: label.name }).toString()}` }, t('labels.members')),
            // A role also leaves clients' service accounts, the default roles and mfa_required_roles; a group mfa_required_groups (src/operations/role-references.ts, group-references.ts).
            confirmed(t('labels.delete'), t(confirmKey(label.name), { name: label.name }), () =>
              void api.delete(`/${kind}/${encodeURIComponent(label.name)}`).then(
                () => reload(t('labels.deleted', { name: label.name })),
                (error: unknown) => showError(null, rowStatus, error, details(error)),
              ),
            ),
          ]),
          { labelledBy: `${kind}-heading` },
        ),
    rowStatus,
    form,
  );
}

export async function labelsPage(root: HTMLElement, api: AdminApi, message?: string): Promise<void> {
  const reload = (text: string) => void labelsPage(root, api, text);
  const [roles, groups] = await Promise.all([labelSection(root, api, 'roles', reload), labelSection(root, api, 'groups', reload)]);
  render(root, h('h1', {}, t('labels.heading')), message === undefined ? null : notice(message), h('p', {}, t('labels.text')), roles, groups);
}
