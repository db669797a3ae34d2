/// <reference lib="dom" />
import type { LockoutResponse as Lockout, LockoutsLiftedResponse } from '../../admin/responses.ts';
import { ApiError, type AdminApi } from './api.ts';
import { h, notice, render, showError, t, table, when } from './ui.ts';

function who(lockout: Lockout): Node | string {
  if (lockout.user_id !== null) return h('a', { href: `#/users/${encodeURIComponent(lockout.user_id)}` }, lockout.username ?? lockout.user_id);
  if (lockout.login !== null) return t('lockouts.login', { login: lockout.login });
  return '—';
}

/** The most the page lists (the admin API's largest page); the rest are counted. */
const SHOWN = 500;

/** How many lockouts are in force and how many the page lists: two sentences, each worded for its own number. */
export function lockoutsHint(shown: number, total: number): string[] {
  return [t('lockouts.in_force', { total: String(total) }, total), t('lockouts.newest', { shown: String(shown) }, shown)];
}

/** Sign-in lockouts in force (GET /lockouts), newest first, each lifted with POST /lockouts/clear. */
export async function lockoutsPage(root: HTMLElement, api: AdminApi, message?: string): Promise<void> {
  const { items: lockouts, total } = await api.list<Lockout>(`/lockouts?limit=${SHOWN}`);
  const status = h('div', { role: 'status' });
  const lift = (lockout: Lockout) => {
    const body = lockout.subject !== null ? { subject: lockout.subject } : { ip: lockout.ip };
    api.post<LockoutsLiftedResponse>('/lockouts/clear', body).then(
      () => lockoutsPage(root, api, t('lockouts.lifted')),
      (error: unknown) => showError(null, status, error, error instanceof ApiError ? error.details : []),
    );
  };
  render(
    root,
    h('h1', { id: 'page-heading' }, t('lockouts.heading')),
    message === undefined ? null : notice(message),
    h('p', {}, t('lockouts.text')),
    ...(total > lockouts.length ? lockoutsHint(lockouts.length, total).map((sentence) => h('p', { class: 'hint' }, sentence)) : []),
    h(
      'section',
      { class: 'card' },
      lockouts.length === 0
        ? h('p', {}, t('lockouts.none'))
        : table(
            t('lockouts.heading'),
            [t('lockouts.col.scope'), t('lockouts.col.who'), t('lockouts.col.ip'), t('lockouts.col.level'), t('lockouts.col.until'), [t('actions'), 'actions']],
            lockouts.map((lockout) => [
              t(`lockouts.scope.${lockout.scope}`),
              who(lockout),
              lockout.ip ?? '—',
              String(lockout.level),
              when(lockout.locked_until),
              h('button', { type: 'button', class: 'secondary', onclick: () => lift(lockout) }, lockout.subject !== null ? t('lockouts.liftSubject') : t('lockouts.liftIp')),
            ]),
            { labelledBy: 'page-heading' },
          ),
      status,
    ),
  );
}
