/// <reference lib="dom" />
import type { KeyListResponse as KeyList, KeyRotationResponse } from '../../admin/responses.ts';
import { ApiError, type AdminApi } from './api.ts';
import { card, confirmed, h, notice, render, showError, t, table, when } from './ui.ts';

export async function keysPage(root: HTMLElement, api: AdminApi, message?: string): Promise<void> {
  const list = await api.get<KeyList>('/keys');
  const status = h('div', { role: 'status' });
  render(
    root,
    h('h1', { id: 'page-heading' }, t('keys.heading')),
    message === undefined ? null : notice(message),
    h(
      'section',
      { class: 'card' },
      h('p', {}, t('keys.version', { version: list.version })),
      table(
        t('keys.heading'),
        [t('keys.col.kid'), t('keys.col.alg'), t('keys.col.status'), t('keys.col.created'), t('keys.col.activates'), t('keys.col.retires')],
        list.keys.map((key) => [h('code', {}, key.kid), key.alg, h('span', { class: `badge ${key.status}` }, t(`keys.status.${key.status}`)), when(key.created_at), when(key.activate_at), when(key.retire_at)]),
        { labelledBy: 'page-heading' },
      ),
    ),
    card(
      'rotate-keys-heading',
      t('keys.rotate.heading'),
      h('p', {}, t('keys.rotate.text')),
      confirmed(t('keys.rotate.button'), t('keys.rotate.confirm'), () =>
        void api.post<KeyRotationResponse>('/keys/rotate').then(
          (result) => keysPage(root, api, t('keys.rotated', { version: result.version })),
          (error: unknown) => showError(null, status, error, error instanceof ApiError ? error.details : []),
        ),
      ),
      status,
    ),
  );
}
