/// <reference lib="dom" />
import type { SessionResponse as SessionView, AppResponse as AppView } from '../responses.ts';
import { card, problem, type Section } from './common.ts';
import { isWebUri } from './referrer.ts';
import { confirmed, h, notice, render, t, when } from './ui.ts';

/** A scope in words when the locale knows it (openid, profile, email, ...), else its name. */
function scopeText(scope: string): string {
  const key = `scope.${scope}`;
  const text = t(key);
  return text === key ? scope : text;
}

/**
 * An application's name; Gatehouse's own clients (src/clients/account-client.ts and
 * console-client.ts; browser code imports no server module) in the reader's language.
 */
function appName(app: { readonly client_id: string; readonly name: string }): string {
  const key = `app.builtIn.${app.client_id}`;
  const text = t(key);
  return text === key ? app.name : text;
}

/** The app an exchanged access came from: by name while it exists, else "another app". */
function originName(origin: { readonly client_id: string | null; readonly name: string | null }): string {
  return origin.client_id === null || origin.name === null ? t('apps.from.unknown') : appName({ client_id: origin.client_id, name: origin.name });
}

/** An API's display name; Gatehouse's own admin API in the reader's language. */
function apiName(api: { readonly name: string; readonly gatehouse: 'admin' | null }): string {
  return api.gatehouse === 'admin' ? t('api.builtIn.admin') : api.name;
}

/** "Chrome on Windows" in the reader's words; the server's name for an unrecognised one. */
function deviceName(session: SessionView): string {
  if (session.browser !== null && session.system !== null) return t('sessions.device', { browser: session.browser, system: session.system });
  return session.browser ?? session.system ?? session.device ?? t('sessions.other', { date: when(session.login_at) });
}

export async function sessionsPage(section: Section, shown?: HTMLElement): Promise<void> {
  const sessions = await section.api.get<SessionView[]>('/sessions');
  const status = h('div', { role: 'status' });
  const again = (next?: HTMLElement) => void sessionsPage(section, next).catch((error: unknown) => status.replaceChildren(problem(section, error)));
  const others = sessions.filter((session) => !session.current);
  const items = sessions.map((session, index) =>
    h(
      'li',
      { class: 'item', 'data-current': session.current ? 'yes' : 'no', 'aria-labelledby': `session-${index}` },
      h('h2', { id: `session-${index}` }, deviceName(session), session.current ? h('span', { class: 'badge' }, t('sessions.current')) : null),
      h(
        'dl',
        {},
        h('dt', {}, t('sessions.ip')),
        h('dd', {}, session.ip ?? '—'),
        h('dt', {}, t('sessions.signedIn')),
        h('dd', {}, when(session.login_at)),
        h('dt', {}, t('sessions.lastSeen')),
        h('dd', {}, when(session.last_seen_at)),
        h('dt', {}, t('sessions.expires')),
        h('dd', {}, when(session.expires_at)),
        h('dt', {}, t('sessions.apps')),
        h('dd', {}, session.apps.length === 0 ? '—' : session.apps.map(appName).join(', ')),
      ),
      session.current
        ? h('p', { class: 'hint' }, t('sessions.current.hint'))
        : confirmed(t('sessions.end'), t('sessions.end.confirm'), () =>
            void section.api.delete(`/sessions/${encodeURIComponent(session.id)}`).then(() => again(notice(t('sessions.ended'))), (error: unknown) => status.replaceChildren(problem(section, error))),
          ),
    ),
  );
  render(
    section.root,
    h('h1', {}, t('sessions.heading')),
    shown,
    h('p', {}, t('sessions.text')),
    status,
    others.length === 0
      ? null
      : h('p', {}, confirmed(t('sessions.endOthers'), t('sessions.endOthers.confirm', { count: others.length }, others.length), () =>
          void section.api.delete<{ ended: number }>('/sessions').then((result) => again(notice(t('sessions.endedOthers', { count: result.ended }, result.ended))), (error: unknown) => status.replaceChildren(problem(section, error))),
        )),
    h('ul', { class: 'items' }, ...items),
  );
}

export async function appsPage(section: Section, shown?: HTMLElement): Promise<void> {
  const apps = await section.api.get<AppView[]>('/apps');
  const status = h('div', { role: 'status' });
  const again = (next?: HTMLElement) => void appsPage(section, next).catch((error: unknown) => status.replaceChildren(problem(section, error)));
  const items = apps.map((app, index) => {
    // Access exchanged from another app's grant that has since ended (token exchange): said apart
    // from what the app was granted itself, which may be nothing.
    const exchanged = app.exchanged_from.length > 0;
    const ownAccess = !exchanged || app.scopes.length + app.api_details.length > 0;
    return h(
      'li',
      { class: 'item', 'data-client-id': app.client_id, 'aria-labelledby': `app-${index}` },
      h('h2', { id: `app-${index}` }, !isWebUri(app.url) ? appName(app) : h('a', { href: app.url, rel: 'noopener noreferrer' }, appName(app))),
      h(
        'dl',
        {},
        ownAccess && h('dt', {}, t('apps.access')),
        ownAccess && h('dd', {}, h('ul', { class: 'scopes' }, ...app.scopes.map((scope) => h('li', {}, scopeText(scope))), ...app.api_details.map((api) => h('li', {}, t('apps.api', { api: apiName(api) }))))),
        app.via.length > 0 && h('dt', {}, t('apps.via')),
        app.via.length > 0 &&
          h('dd', {}, h('ul', { class: 'scopes' }, ...app.via.map((other) => h('li', { 'data-via-client-id': other.client_id }, [appName(other), ...other.api_details.map((api) => t('apps.api', { api: apiName(api) }))].join(' — '))))),
        exchanged && h('dt', {}, t('apps.from')),
        exchanged &&
          h('dd', {}, h('ul', { class: 'scopes' }, ...app.exchanged_from.map((origin) => h('li', { 'data-from-client-id': origin.client_id ?? '' }, [originName(origin), ...origin.api_details.map((api) => t('apps.api', { api: apiName(api) }))].join(' — '))))),
        h('dt', {}, t('apps.since')),
        h('dd', {}, when(app.granted_at)),
      ),
      exchanged && h('p', { class: 'hint' }, t('apps.from.hint')),
      confirmed(t('apps.revoke'), t('apps.revoke.confirm', { name: appName(app) }), () =>
        void section.api.delete(`/apps/${encodeURIComponent(app.client_id)}`).then(() => again(notice(t('apps.revoked', { name: appName(app) }))), (error: unknown) => status.replaceChildren(problem(section, error))),
        { 'aria-label': t('apps.revoke.label', { name: appName(app) }) },
      ),
    );
  });
  render(
    section.root,
    h('h1', {}, t('apps.heading')),
    shown,
    h('p', {}, t('apps.text')),
    status,
    apps.length === 0 ? card('apps-none', t('apps.none.heading'), h('p', {}, t('apps.none'))) : h('ul', { class: 'items' }, ...items),
  );
}
