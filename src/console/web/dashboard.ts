/// <reference lib="dom" />
import type { AdminApi } from './api.ts';
import { recentCount } from './audit.ts';
import type { KeyList } from './keys.ts';
import { h, render, t, when } from './ui.ts';

interface Health {
  readonly status: 'ok' | 'unavailable';
  readonly checks: Record<string, 'ok' | 'unavailable'>;
}

const DAY_MS = 24 * 3600 * 1000;

function tile(label: string, value: string, link?: string, testId?: string): HTMLElement {
  return h('div', { class: 'tile', 'data-testid': testId }, h('p', { class: 'tile-value' }, link === undefined ? value : h('a', { href: link }, value)), h('p', { class: 'tile-label' }, label));
}

/** Counts and health at a glance, from the same admin API routes the other pages use. */
export async function dashboardPage(root: HTMLElement, api: AdminApi): Promise<void> {
  const since = new Date(Date.now() - DAY_MS);
  const [users, clients, apis, keys, health, signIns, failures, lockouts, lockedNow] = await Promise.all([
    api.get<{ total: number }>('/users?limit=1'),
    api.list('/clients?limit=1'),
    api.list('/apis?limit=1'),
    api.get<KeyList>('/keys'),
    api.get<Health>('/health'),
    recentCount(api, 'signin.success', since),
    recentCount(api, 'signin.failure', since),
    recentCount(api, 'signin.lockout', since),
    api.get<unknown[]>('/lockouts'),
  ]);
  const count = (result: { count: number; more: boolean }) => (result.more ? `${result.count}+` : String(result.count));
  const auditLink = (type: string) => `#/audit?${new URLSearchParams({ type, from: since.toISOString() }).toString()}`;
  const active = keys.keys.find((key) => key.status === 'active');
  const next = keys.keys.filter((key) => key.status === 'next');
  render(
    root,
    h('h1', {}, t('dashboard.heading')),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'health-heading' },
      h('h2', { id: 'health-heading' }, t('dashboard.health')),
      h(
        'ul',
        { class: 'health' },
        ...Object.entries(health.checks).map(([name, state]) => h('li', {}, h('span', { class: `badge ${state === 'ok' ? 'on' : 'off'}` }, state === 'ok' ? t('dashboard.ok') : t('dashboard.unavailable')), ` ${name}`)),
      ),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'counts-heading' },
      h('h2', { id: 'counts-heading' }, t('dashboard.counts')),
      h('div', { class: 'tiles' }, tile(t('nav.users'), String(users.total), '#/users', 'count-users'), tile(t('nav.clients'), String(clients.total), '#/clients', 'count-clients'), tile(t('nav.apis'), String(apis.total), '#/apis', 'count-apis')),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'signins-heading' },
      h('h2', { id: 'signins-heading' }, t('dashboard.signIns')),
      h('div', { class: 'tiles' }, tile(t('dashboard.signInsOk'), count(signIns), auditLink('signin.success')), tile(t('dashboard.signInsFailed'), count(failures), auditLink('signin.failure')), tile(t('dashboard.lockouts'), count(lockouts), auditLink('signin.lockout')), tile(t('dashboard.lockedNow'), String(lockedNow.length), '#/lockouts', 'count-locked')),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'keys-status-heading' },
      h('h2', { id: 'keys-status-heading' }, t('dashboard.keys')),
      h('p', {}, active === undefined ? t('dashboard.noActiveKey') : t('dashboard.activeKey', { kid: active.kid, alg: active.alg, since: when(active.activate_at) })),
      next.length === 0 ? null : h('p', {}, t('dashboard.nextKey', { count: next.length, at: when(next[0]!.activate_at) })),
      h('a', { href: '#/keys' }, t('dashboard.manageKeys')),
    ),
  );
}
