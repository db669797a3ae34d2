/// <reference lib="dom" />
import type { AdminApi } from './api.ts';
import { h, render, t, table } from './ui.ts';

/** Nested settings as dotted names with printable values (objects flattened, lists joined). */
function flatten(value: unknown, prefix: string, rows: Array<[string, string]>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix === '' ? key : `${prefix}.${key}`, rows);
    return;
  }
  const text = Array.isArray(value) ? (value.length === 0 ? '—' : value.map((item) => (typeof item === 'object' ? JSON.stringify(item) : String(item))).join(', ')) : value === null || value === undefined ? '—' : String(value);
  rows.push([prefix, text]);
}

export async function settingsPage(root: HTMLElement, api: AdminApi): Promise<void> {
  const settings = await api.get<Record<string, unknown>>('/settings');
  const rows: Array<[string, string]> = [];
  flatten(settings, '', rows);
  render(
    root,
    h('h1', {}, t('settings.heading')),
    h('p', {}, t('settings.text')),
    h('p', {}, t('settings.signInText'), ' ', h('a', { href: '#/settings/sign-in' }, t('settings.signInLink'))),
    h('p', {}, t('settings.securityText'), ' ', h('a', { href: '#/settings/security' }, t('settings.securityLink'))),
    h('section', { class: 'card' }, table(t('settings.heading'), [t('settings.col.name'), t('settings.col.value')], rows.map(([name, value]) => [h('code', {}, name), value === '[secret]' ? h('span', { class: 'badge secret' }, t('settings.hidden')) : value]))),
  );
}
