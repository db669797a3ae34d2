/// <reference lib="dom" />
import type { ApiResponse as Api } from '../../admin/responses.ts';
import { ApiError, type AdminApi } from './api.ts';
import { checkField, deleteCard, facts, h, hashQuery, notice, pager, render, selectField, showError, t, table, textField, words } from './ui.ts';

const PAGE = 25;
const details = (error: unknown) => (error instanceof ApiError ? error.details : []);
const FORMATS = [['jwt', 'JWT'], ['opaque', 'opaque']] as const;
const ALGS = [['RS256', 'RS256'], ['ES256', 'ES256']] as const;

export async function apiListPage(root: HTMLElement, api: AdminApi): Promise<void> {
  const query = hashQuery();
  const q = query.get('q') ?? '';
  const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0);
  const search = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  if (q !== '') search.set('q', q);
  const page = await api.list<Api>(`/apis?${search.toString()}`);

  const searchForm = h('form', { role: 'search' }, h('label', { for: 'api-search' }, t('apis.search')), h('div', { class: 'inline' }, h('input', { id: 'api-search', name: 'q', type: 'search', value: q }), h('button', { type: 'submit' }, t('search.button')))) as HTMLFormElement;
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = String(new FormData(searchForm).get('q') ?? '').trim();
    location.hash = value === '' ? '#/apis' : `#/apis?q=${encodeURIComponent(value)}`;
  });
  const list =
    page.items.length === 0
      ? h('p', {}, t('apis.empty'))
      : table(
          t('apis.heading'),
          [t('apis.col.identifier'), t('apis.col.name'), [t('apis.col.scopes'), 'optional'], t('apis.col.format')],
          page.items.map((item) => [h('a', { href: `#/apis/${encodeURIComponent(item.identifier)}` }, item.identifier), item.name, item.scopes.join(' '), item.format]),
          { labelledBy: 'page-heading' },
        );

  const formStatus = h('div', { role: 'status' });
  const form = h(
    'form',
    { 'aria-labelledby': 'new-api-heading' },
    h('h2', { id: 'new-api-heading' }, t('apis.new.heading')),
    textField('identifier', t('api.field.identifier'), '', { required: true, hint: t('api.field.identifierHint') }),
    textField('name', t('api.field.name'), ''),
    textField('scopes', t('api.field.scopes'), '', { hint: t('api.field.scopesHint') }),
    selectField('format', t('api.field.format'), FORMATS, 'jwt'),
    h('button', { type: 'submit' }, t('apis.new.create')),
    formStatus,
  ) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const name = String(data.get('name') ?? '').trim();
    const body = { identifier: String(data.get('identifier') ?? '').trim(), ...(name === '' ? {} : { name }), scopes: words(data.get('scopes')), format: String(data.get('format')) };
    api.post<Api>('/apis', body).then(
      (created) => {
        location.hash = `#/apis/${encodeURIComponent(created.identifier)}`;
      },
      (error: unknown) => showError(form, formStatus, error, details(error)),
    );
  });

  render(root, h('h1', { id: 'page-heading' }, t('apis.heading')), h('section', { class: 'card' }, searchForm, list, pager('#/apis', query, offset, PAGE, page.total)), h('section', { class: 'card' }, form));
}

export async function apiPage(root: HTMLElement, api: AdminApi, identifier: string, message?: string): Promise<void> {
  const path = `/apis/${encodeURIComponent(identifier)}`;
  const item = await api.get<Api>(path);
  const formStatus = h('div', { role: 'status' });
  const form = h(
    'form',
    { 'aria-labelledby': 'api-edit-heading' },
    h('h2', { id: 'api-edit-heading' }, t('api.edit.heading')),
    textField('name', t('api.field.name'), item.name),
    textField('scopes', t('api.field.scopes'), item.scopes.join(' '), { hint: t('api.field.scopesHint') }),
    selectField('format', t('api.field.format'), FORMATS, item.format),
    selectField('alg', t('api.field.alg'), ALGS, item.alg),
    textField('access_token_ttl', t('api.field.access_token_ttl'), item.access_token_ttl, { type: 'number', hint: t('api.field.ttlHint') }),
    checkField('include_roles', t('api.field.include_roles'), item.include_roles),
    checkField('include_groups', t('api.field.include_groups'), item.include_groups),
    selectField('token_claims', t('api.field.token_claims'), [['gatehouse', t('api.claims.gatehouse')], ['keycloak', t('api.claims.keycloak')]], item.token_claims),
    textField('client_id', t('api.field.client_id'), item.client_id, { hint: t('api.field.clientHint') }),
    h('button', { type: 'submit' }, t('api.save')),
    formStatus,
  ) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const clientId = String(data.get('client_id') ?? '').trim();
    const body = {
      name: String(data.get('name') ?? '').trim(),
      scopes: words(data.get('scopes')),
      format: String(data.get('format')),
      alg: String(data.get('alg')),
      access_token_ttl: Number(data.get('access_token_ttl')),
      include_roles: data.get('include_roles') !== null,
      include_groups: data.get('include_groups') !== null,
      token_claims: String(data.get('token_claims')),
      client_id: clientId === '' ? null : clientId,
    };
    api.patch<Api>(path, body).then(
      () => apiPage(root, api, identifier, t('api.saved')),
      (error: unknown) => showError(form, formStatus, error, details(error)),
    );
  });

  const deletion = deleteCard({
    id: 'api-delete',
    heading: t('api.delete.heading'),
    text: t('api.delete.text'),
    button: t('api.delete.button'),
    confirm: t('api.delete.confirm', { api: identifier }),
    remove: () => api.delete(path),
    back: '#/apis',
    details,
  });

  render(
    root,
    h('p', {}, h('a', { href: '#/apis' }, t('api.back'))),
    h('h1', {}, t('api.heading', { api: item.name })),
    message === undefined ? null : notice(message),
    h('section', { class: 'card' }, facts([[t('apis.col.identifier'), h('code', {}, item.identifier)]])),
    h('section', { class: 'card' }, form),
    deletion,
  );
}
