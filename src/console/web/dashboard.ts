/// <reference lib="dom" />
import type { HealthResponse, KeyListResponse, LockoutResponse, SessionCountResponse, SignInStatsResponse, UserPageResponse } from '../../admin/responses.ts';
import type { AdminApi } from './api.ts';
import { currentLocale, h, render, t, tableWrap, when } from './ui.ts';

/**
 * Sign-ins per day as a table whose cells carry a bar (readable without the bars too). On a phone
 * each day is a card, its three values side by side under their names (console.css): four columns
 * of Russian names do not fit 390 px, and the lockouts per day are said nowhere else (the tiles say today's).
 */
function chart(days: SignInStatsResponse['days']): HTMLElement {
  const most = Math.max(1, ...days.flatMap((day) => [day.success, day.failure]));
  const bar = (value: number, kind: string, label: string) =>
    h('td', { 'data-label': label }, h('span', { class: `chart-bar ${kind}`, 'data-width': String(Math.round((value / most) * 100)) }), h('span', { class: 'bar-value' }, String(value)));
  const [success, failure, lockouts] = [t('dashboard.col.success'), t('dashboard.col.failure'), t('dashboard.col.lockouts')];
  const body = h(
    'tbody',
    {},
    ...days.map((day) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, new Date(`${day.date}T00:00:00Z`).toLocaleDateString(currentLocale(), { month: 'short', day: 'numeric', timeZone: 'UTC' })),
        bar(day.success, 'ok', success),
        bar(day.failure, 'failed', failure),
        h('td', { class: 'count', 'data-label': lockouts }, String(day.lockout)),
      ),
    ),
  );
  // Widths through the CSSOM: the console's CSP allows no inline style attributes.
  for (const element of body.querySelectorAll<HTMLElement>('.chart-bar')) element.style.width = `${element.dataset.width}%`;
  return tableWrap(
    t('dashboard.chartCaption'),
    h('table', { class: 'chart stacked' }, h('caption', { class: 'hint' }, t('dashboard.chartCaption')), h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('dashboard.day')), h('th', { scope: 'col' }, success), h('th', { scope: 'col' }, failure), h('th', { scope: 'col', class: 'count' }, lockouts))), body),
  );
}

function tile(label: string, value: string, link?: string, testId?: string): HTMLElement {
  return h('div', { class: 'tile', 'data-testid': testId }, h('p', { class: 'tile-value' }, link === undefined ? value : h('a', { href: link }, value)), h('p', { class: 'tile-label' }, label));
}

/** Counts and health at a glance, from the same admin API routes the other pages use. */
export async function dashboardPage(root: HTMLElement, api: AdminApi): Promise<void> {
  const [users, clients, apis, keys, health, stats, sessions, lockedNow] = await Promise.all([
    api.get<UserPageResponse>('/users?limit=1'),
    api.list('/clients?limit=1'),
    api.list('/apis?limit=1'),
    api.get<KeyListResponse>('/keys'),
    api.get<HealthResponse>('/health'),
    api.get<SignInStatsResponse>('/stats/sign-ins?days=7'),
    api.get<SessionCountResponse>('/stats/sessions'),
    api.list<LockoutResponse>('/lockouts?limit=1'),
  ]);
  const today = stats.days.at(-1) ?? { date: new Date().toISOString().slice(0, 10), success: 0, failure: 0, lockout: 0 };
  const auditLink = (type: string) => `#/audit?${new URLSearchParams({ type, from: `${today.date}T00:00:00.000Z` }).toString()}`;
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
      h('div', { class: 'tiles' }, tile(t('nav.users'), String(users.total), '#/users', 'count-users'), tile(t('nav.clients'), String(clients.total), '#/clients', 'count-clients'), tile(t('nav.apis'), String(apis.total), '#/apis', 'count-apis'), tile(t('dashboard.sessions'), String(sessions.active), undefined, 'count-sessions')),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'signins-heading' },
      h('h2', { id: 'signins-heading' }, t('dashboard.signIns')),
      h('div', { class: 'tiles' }, tile(t('dashboard.signInsOk'), String(today.success), auditLink('signin.success'), 'count-signins'), tile(t('dashboard.signInsFailed'), String(today.failure), auditLink('signin.failure'), 'count-failures'), tile(t('dashboard.lockouts'), String(today.lockout), auditLink('signin.lockout')), tile(t('dashboard.lockedNow'), String(lockedNow.total), '#/lockouts', 'count-locked')),
      chart(stats.days),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'keys-status-heading' },
      h('h2', { id: 'keys-status-heading' }, t('dashboard.keys')),
      h('p', {}, active === undefined ? t('dashboard.noActiveKey') : t('dashboard.activeKey', { kid: active.kid, alg: active.alg, since: when(active.activate_at) })),
      next.length === 0 ? null : h('p', {}, t('dashboard.nextKey', { count: next.length, at: when(next[0]!.activate_at) }, next.length)),
      h('a', { href: '#/keys' }, t('dashboard.manageKeys')),
    ),
  );
}
