/// <reference lib="dom" />
import { ApiError, type AdminApi } from './api.ts';
import { h, render, t } from './ui.ts';

export interface Client {
  readonly client_id: string;
  readonly name: string;
  readonly type: 'public' | 'confidential';
  readonly grant_types: readonly string[];
  readonly redirect_uris: readonly string[];
  readonly post_logout_redirect_uris: readonly string[];
  readonly token_endpoint_auth_method: string;
  readonly client_secret?: string;
  readonly [field: string]: unknown;
}

export const CONSOLE_CLIENT_ID = 'gatehouse-console';
const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';

/** What each preset creates (the admin API's client body); the redirect URI is added when the preset uses one. */
export const PRESETS: Record<string, { body: Record<string, unknown>; redirect: boolean }> = {
  web: { body: { type: 'confidential', grant_types: ['authorization_code', 'refresh_token'] }, redirect: true },
  spa: { body: { type: 'public', grant_types: ['authorization_code', 'refresh_token'] }, redirect: true },
  native: { body: { type: 'public', grant_types: ['authorization_code', 'refresh_token'] }, redirect: true },
  service: { body: { type: 'confidential', grant_types: ['client_credentials'] }, redirect: false },
  device: { body: { type: 'public', grant_types: [DEVICE, 'refresh_token'] }, redirect: false },
};

const EDITABLE_URIS = ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri', 'backchannel_logout_uri'] as const;

function errorBox(error: unknown): HTMLElement {
  if (error instanceof ApiError && error.details.length > 0) {
    return h('div', { class: 'alert', role: 'alert' }, ...error.details.map((detail) => h('p', {}, t('field.invalid', { field: detail.path, message: detail.message }))));
  }
  return h('div', { class: 'alert', role: 'alert' }, t('error.generic', { message: error instanceof Error ? error.message : String(error) }));
}

/** The secret, shown once, with the reminder that it cannot be read again. */
function secretCard(client: Client, onDone: () => void): HTMLElement {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'secret-heading' },
    h('h2', { id: 'secret-heading' }, t('secret.heading')),
    h('p', { class: 'notice' }, t('secret.once')),
    h('p', { id: 'secret-label' }, t('secret.label', { client: client.client_id })),
    h('code', { class: 'secret', 'data-testid': 'client-secret', 'data-client-id': client.client_id, 'aria-labelledby': 'secret-label' }, client.client_secret ?? ''),
    h('button', { type: 'button', onclick: onDone }, t('secret.done')),
  );
}

export async function clientListPage(root: HTMLElement, api: AdminApi, shown?: Client): Promise<void> {
  const query = new URLSearchParams(location.hash.split('?')[1] ?? '').get('q') ?? '';
  const clients = await api.get<Client[]>(`/clients${query === '' ? '' : `?q=${encodeURIComponent(query)}`}`);
  const status = h('div', { role: 'status' });
  const presetSelect = h('select', { id: 'new-preset', name: 'preset' }, ...Object.keys(PRESETS).map((key) => h('option', { value: key }, t(`preset.${key}`)))) as HTMLSelectElement;
  const redirectField = h('div', {}, h('label', { for: 'new-redirect' }, t('clients.new.redirect')), h('input', { id: 'new-redirect', name: 'redirect', type: 'url', 'aria-describedby': 'new-redirect-hint' }), h('p', { class: 'hint', id: 'new-redirect-hint' }, t('clients.new.redirectHint')));
  presetSelect.addEventListener('change', () => {
    redirectField.hidden = !PRESETS[presetSelect.value]!.redirect;
  });
  const form = h(
    'form',
    { 'aria-labelledby': 'new-heading' },
    h('h2', { id: 'new-heading' }, t('clients.new.heading')),
    h('label', { for: 'new-preset' }, t('clients.new.preset')),
    presetSelect,
    h('label', { for: 'new-name' }, t('clients.new.name')),
    h('input', { id: 'new-name', name: 'name', required: true, autocomplete: 'off' }),
    redirectField,
    h('button', { type: 'submit' }, t('clients.new.create')),
    status,
  ) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const preset = PRESETS[String(data.get('preset'))]!;
    const redirect = String(data.get('redirect') ?? '').trim();
    const body = { ...preset.body, name: String(data.get('name') ?? ''), ...(preset.redirect && redirect !== '' ? { redirect_uris: [redirect] } : {}) };
    api.post<Client>('/clients', body).then(
      (created) => clientListPage(root, api, created),
      (error: unknown) => status.replaceChildren(errorBox(error)),
    );
  });
  const search = h('form', { role: 'search' }, h('label', { for: 'client-search' }, t('clients.search')), h('input', { id: 'client-search', name: 'q', type: 'search', value: query })) as HTMLFormElement;
  search.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = String(new FormData(search).get('q') ?? '');
    location.hash = q === '' ? '#/clients' : `#/clients?q=${encodeURIComponent(q)}`;
  });
  const table =
    clients.length === 0
      ? h('p', {}, t('clients.empty'))
      : h(
          'table',
          {},
          h('caption', { class: 'hint' }, t('clients.heading')),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('clients.col.id')), h('th', { scope: 'col' }, t('clients.col.name')), h('th', { scope: 'col' }, t('clients.col.type')), h('th', { scope: 'col', class: 'optional' }, t('clients.col.grants')))),
          h(
            'tbody',
            {},
            ...clients.map((client) =>
              h('tr', {}, h('td', {}, h('a', { href: `#/clients/${encodeURIComponent(client.client_id)}` }, client.client_id)), h('td', {}, client.name), h('td', {}, client.type), h('td', { class: 'optional' }, client.grant_types.join(', '))),
            ),
          ),
        );
  render(
    root,
    h('h1', {}, t('clients.heading')),
    shown?.client_secret !== undefined ? secretCard(shown, () => void clientListPage(root, api)) : null,
    h('section', { class: 'card' }, search, table),
    h('section', { class: 'card' }, form),
  );
}

const lines = (value: FormDataEntryValue | null) =>
  String(value ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

export async function clientPage(root: HTMLElement, api: AdminApi, clientId: string, notice?: HTMLElement): Promise<void> {
  const client = await api.get<Client>(`/clients/${encodeURIComponent(clientId)}`);
  const path = `/clients/${encodeURIComponent(clientId)}`;
  const status = h('div', { role: 'status' });
  const field = (name: string, label: string, control: HTMLElement) => h('div', {}, h('label', { for: `f-${name}` }, label), control);
  const text = (name: string, value: unknown, type = 'text') => h('input', { id: `f-${name}`, name, type, value: typeof value === 'string' ? value : '' });
  const area = (name: string, value: readonly string[]) => {
    const element = h('textarea', { id: `f-${name}`, name }) as HTMLTextAreaElement;
    element.value = value.join('\n');
    return element;
  };
  const form = h(
    'form',
    { 'aria-labelledby': 'edit-heading' },
    h('h2', { id: 'edit-heading' }, t('client.edit.heading')),
    field('name', t('client.field.name'), text('name', client.name)),
    field('redirect_uris', t('client.field.redirect_uris'), area('redirect_uris', client.redirect_uris)),
    field('post_logout_redirect_uris', t('client.field.post_logout_redirect_uris'), area('post_logout_redirect_uris', client.post_logout_redirect_uris)),
    ...EDITABLE_URIS.map((name) => field(name, t(`client.field.${name}`), text(name, client[name], 'url'))),
    h('button', { type: 'submit' }, t('client.save')),
    status,
  ) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const patch: Record<string, unknown> = { name: String(data.get('name') ?? ''), redirect_uris: lines(data.get('redirect_uris')), post_logout_redirect_uris: lines(data.get('post_logout_redirect_uris')) };
    for (const name of EDITABLE_URIS) {
      const value = String(data.get(name) ?? '').trim();
      if (value !== '' || client[name] !== null) patch[name] = value === '' ? null : value;
    }
    api.patch<Client>(path, patch).then(
      () => clientPage(root, api, clientId, h('p', { class: 'notice', role: 'status' }, t('client.saved'))),
      (error: unknown) => status.replaceChildren(errorBox(error)),
    );
  });

  const rotateStatus = h('div', { role: 'status' });
  const rotate =
    client.type === 'confidential' && client.token_endpoint_auth_method !== 'private_key_jwt'
      ? h(
          'section',
          { class: 'card', 'aria-labelledby': 'rotate-heading' },
          h('h2', { id: 'rotate-heading' }, t('client.rotate.heading')),
          h('p', {}, t('client.rotate.text')),
          h('button', {
            type: 'button',
            class: 'secondary',
            onclick: () =>
              void api.post<Client>(`${path}/secret`).then(
                (rotated) => rotateStatus.replaceChildren(secretCard(rotated, () => rotateStatus.replaceChildren())),
                (error: unknown) => rotateStatus.replaceChildren(errorBox(error)),
              ),
          }, t('client.rotate.button')),
          rotateStatus,
        )
      : null;

  const deleteStatus = h('div', { role: 'status' });
  const confirmRow = h('div', { hidden: true });
  confirmRow.append(
    h('button', {
      type: 'button',
      class: 'danger',
      onclick: () =>
        void api.delete(path).then(
          () => {
            location.hash = '#/clients';
            queueMicrotask(() => root.prepend(h('p', { class: 'notice', role: 'status' }, t('client.deleted', { client: clientId }))));
          },
          (error: unknown) => deleteStatus.replaceChildren(errorBox(error)),
        ),
    }, t('client.delete.confirm', { client: clientId })),
    h('button', { type: 'button', class: 'secondary', onclick: () => (confirmRow.hidden = true) }, t('client.delete.cancel')),
  );
  const deletion =
    clientId === CONSOLE_CLIENT_ID
      ? h('section', { class: 'card' }, h('p', {}, t('client.builtIn')))
      : h(
          'section',
          { class: 'card', 'aria-labelledby': 'delete-heading' },
          h('h2', { id: 'delete-heading' }, t('client.delete.heading')),
          h('p', {}, t('client.delete.text')),
          h('button', { type: 'button', class: 'danger', onclick: () => (confirmRow.hidden = false) }, t('client.delete.button')),
          confirmRow,
          deleteStatus,
        );

  render(
    root,
    h('p', {}, h('a', { href: '#/clients' }, t('client.back'))),
    h('h1', {}, t('client.heading', { client: client.name })),
    notice,
    h('section', { class: 'card' }, h('dl', {}, h('dt', {}, t('clients.col.id')), h('dd', {}, client.client_id), h('dt', {}, t('clients.col.type')), h('dd', {}, client.type), h('dt', {}, t('clients.col.grants')), h('dd', {}, client.grant_types.join(', ')))),
    h('section', { class: 'card' }, form),
    rotate,
    deletion,
  );
}
