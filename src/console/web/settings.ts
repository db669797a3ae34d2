/// <reference lib="dom" />
import { ApiError, type AdminApi } from './api.ts';
import { card, confirmed, h, notice, render, showError, t, table } from './ui.ts';

/** POST /caches/flush's answer: the subscriptions that heard each cache's notice (src/operations/caches.ts). */
interface CacheFlush {
  readonly flushed: boolean;
  readonly caches: ReadonlyArray<{ readonly cache: string; readonly listeners: number }>;
}

/** Nested settings as dotted names with printable values (objects flattened, lists joined). */
function flatten(value: unknown, prefix: string, rows: Array<[string, string]>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix === '' ? key : `${prefix}.${key}`, rows);
    return;
  }
  const text = Array.isArray(value) ? (value.length === 0 ? '—' : value.map((item) => (typeof item === 'object' ? JSON.stringify(item) : String(item))).join(', ')) : value === null || value === undefined ? '—' : String(value);
  rows.push([prefix, text]);
}

/**
 * After a database restore or a direct edit: every instance forgets its cached records (README
 * "Backups and restore"). How many heard it: the fewest subscriptions that heard any one cache's
 * notice (one per instance or worker). Without Redis the API's 409 says why nothing can be flushed.
 */
function flushCaches(root: HTMLElement, api: AdminApi): HTMLElement {
  const status = h('div', { role: 'status' });
  return card(
    'caches-heading',
    t('caches.heading'),
    h('p', {}, t('caches.text')),
    confirmed(t('caches.flush.button'), t('caches.flush.confirm'), () =>
      void api.post<CacheFlush>('/caches/flush').then(
        (result) => settingsPage(root, api, t('caches.flushed', { listeners: Math.min(...result.caches.map((cache) => cache.listeners)) })),
        (error: unknown) => showError(null, status, error, error instanceof ApiError ? error.details : []),
      ),
    ),
    status,
  );
}

export async function settingsPage(root: HTMLElement, api: AdminApi, message?: string): Promise<void> {
  const settings = await api.get<Record<string, unknown>>('/settings');
  const rows: Array<[string, string]> = [];
  flatten(settings, '', rows);
  render(
    root,
    h('h1', { id: 'page-heading' }, t('settings.heading')),
    message === undefined ? null : notice(message),
    h('p', {}, t('settings.text')),
    h('p', {}, t('settings.signInText'), ' ', h('a', { href: '#/settings/sign-in' }, t('settings.signInLink'))),
    h('p', {}, t('settings.securityText'), ' ', h('a', { href: '#/settings/security' }, t('settings.securityLink'))),
    flushCaches(root, api),
    h('section', { class: 'card' }, table(t('settings.heading'), [t('settings.col.name'), t('settings.col.value')], rows.map(([name, value]) => [h('code', {}, name), value === '[secret]' ? h('span', { class: 'badge secret' }, t('settings.hidden')) : value]), { labelledBy: 'page-heading' })),
  );
}
