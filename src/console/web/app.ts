/// <reference lib="dom" />
import { adminApi, ApiError } from './api.ts';
import { beginSignIn, completeSignIn, settingsFrom, signOut, stored, whoAmI, type ConsoleSettings } from './auth.ts';
import { clientListPage, clientPage } from './clients.ts';
import { h, loadStrings, render, t } from './ui.ts';

function shell(settings: ConsoleSettings, signedIn: boolean): HTMLElement {
  const app = document.getElementById('app')!;
  app.replaceChildren();
  const main = h('main', { id: 'main' });
  const header = h(
    'header',
    { class: 'bar' },
    h('span', { class: 'brand' }, t('title')),
    signedIn ? h('nav', { 'aria-label': t('nav.label') }, h('ul', {}, h('li', {}, h('a', { href: '#/clients' }, t('nav.clients'))))) : null,
    signedIn ? h('button', { type: 'button', class: 'secondary', onclick: () => signOut(settings) }, t('signOut.button')) : null,
  );
  app.append(header, main);
  return main;
}

function signInPage(settings: ConsoleSettings, problem?: string): void {
  const main = shell(settings, false);
  render(
    main,
    h('h1', {}, t('signIn.heading')),
    problem === undefined ? null : h('div', { class: 'alert', role: 'alert' }, t('signIn.failed', { error: problem })),
    h('p', {}, t('signIn.text')),
    h('button', { type: 'button', onclick: () => void beginSignIn(settings) }, t('signIn.button')),
  );
}

function noAccessPage(settings: ConsoleSettings): void {
  const main = shell(settings, true);
  render(main, h('h1', {}, t('noAccess.heading')), h('p', { 'data-testid': 'no-access' }, t('noAccess.text', { user: whoAmI() })));
}

async function route(settings: ConsoleSettings): Promise<void> {
  const api = adminApi(settings);
  const main = shell(settings, true);
  const [path] = location.hash.replace(/^#/, '').split('?');
  const clientMatch = /^\/clients\/(.+)$/.exec(path ?? '');
  try {
    if (clientMatch !== null) await clientPage(main, api, decodeURIComponent(clientMatch[1]!));
    else await clientListPage(main, api);
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return noAccessPage(settings);
    if (error instanceof ApiError && error.status === 401) return signInPage(settings);
    render(main, h('h1', {}, t('title')), h('div', { class: 'alert', role: 'alert' }, error instanceof ApiError && error.status === 503 ? t('error.unavailable') : t('error.generic', { message: error instanceof Error ? error.message : String(error) })));
  }
}

async function start(): Promise<void> {
  const settings = settingsFrom(document.body);
  await loadStrings(settings.assets, 'en');
  document.title = t('title');
  try {
    await completeSignIn(settings);
  } catch (error) {
    return signInPage(settings, error instanceof Error ? error.message : String(error));
  }
  if (stored() === undefined) return signInPage(settings);
  window.addEventListener('hashchange', () => void route(settings));
  await route(settings);
}

void start();
