/// <reference lib="dom" />
import type { CreatedClientResponse as Client } from '../../admin/responses.ts';
import { ApiError, type AdminApi } from './api.ts';
import { areaField, checkField, confirmed, currentLocale, deleteCard, facts, h, hashQuery, lines, notice, pager, render, selectField, showError, t, table, textField, when, type FieldDetail } from './ui.ts';
import { importMarkFact } from './import-mark.ts';

export const CONSOLE_CLIENT_ID = 'gatehouse-console';
/** The account page's built-in client (src/clients/account-client.ts): not deletable either. */
export const ACCOUNT_CLIENT_ID = 'gatehouse-account';
const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';
const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', DEVICE] as const;

/** A grant type by its name in the reader's language (the four a client may hold, src/clients/spec.ts). */
const grantLabel = (grant: string) => t(`grant.${grant === DEVICE ? 'device_code' : grant}`);

/**
 * A client's grant types by name as one phrase of the page's language ("Authorization code and
 * Refresh token", "授权码和刷新令牌"), each with its protocol identifier on hover (what the API and
 * the library say).
 */
function grantList(grants: readonly string[]): HTMLElement {
  const parts = new Intl.ListFormat(currentLocale(), { style: 'long', type: 'conjunction' }).formatToParts(grants.map(grantLabel));
  let next = 0;
  return h('span', { class: 'grants' }, ...parts.map((part) => (part.type === 'element' ? h('span', { title: grants[next++]! }, part.value) : part.value)));
}
const CONFIDENTIAL_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
const PAGE = 25;

/** What each preset creates (the admin API's client body); the redirect URI is added when the preset uses one. */
export const PRESETS: Record<string, { body: Record<string, unknown>; redirect: boolean }> = {
  web: { body: { type: 'confidential', grant_types: ['authorization_code', 'refresh_token'] }, redirect: true },
  spa: { body: { type: 'public', grant_types: ['authorization_code', 'refresh_token'] }, redirect: true },
  native: { body: { type: 'public', application_type: 'native', grant_types: ['authorization_code', 'refresh_token'] }, redirect: true },
  service: { body: { type: 'confidential', grant_types: ['client_credentials'] }, redirect: false },
  device: { body: { type: 'public', grant_types: [DEVICE, 'refresh_token'] }, redirect: false },
};

/** Fields edited as lists (one per line), URLs, switches and JSON documents; each control is f-<field>. */
const LIST_FIELDS = ['redirect_uris', 'post_logout_redirect_uris', 'web_origins', 'apis'] as const;
const URL_FIELDS = ['jwks_uri', 'logo_uri', 'client_uri', 'policy_uri', 'tos_uri', 'backchannel_logout_uri'] as const;
const SWITCHES = ['first_party', 'require_pkce', 'require_mfa', 'allow_password_grant', 'minimal_id_token', 'login_uses_default_api', 'backchannel_logout_session_required'] as const;
const JSON_FIELDS = ['jwks', 'api_scopes', 'token_exchange'] as const;

const details = (error: unknown) => (error instanceof ApiError ? error.details : []);

/** The secret, shown once, with the reminder that it cannot be read again. */
function secretCard(client: Client, onDone: () => void): HTMLElement {
  const secret = client.client_secret ?? '';
  const copied = h('span', { role: 'status', class: 'hint' });
  const copy = h('button', {
    type: 'button',
    class: 'secondary',
    onclick: () => {
      // The clipboard needs a secure context (HTTPS or localhost); otherwise the text stays selectable.
      if (navigator.clipboard === undefined) return copied.replaceChildren(t('secret.copyFailed'));
      navigator.clipboard.writeText(secret).then(
        () => copied.replaceChildren(t('secret.copied')),
        () => copied.replaceChildren(t('secret.copyFailed')),
      );
    },
  }, t('secret.copy'));
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'secret-heading' },
    h('h2', { id: 'secret-heading' }, t('secret.heading')),
    h('p', { class: 'notice' }, t('secret.once')),
    h('p', { id: 'secret-label' }, t('secret.label', { client: client.client_id })),
    h('code', { class: 'secret', 'data-testid': 'client-secret', 'data-client-id': client.client_id, 'aria-labelledby': 'secret-label' }, secret),
    copy,
    h('button', { type: 'button', onclick: onDone }, t('secret.done')),
    copied,
  );
}

export async function clientListPage(root: HTMLElement, api: AdminApi, shown?: Client): Promise<void> {
  const query = hashQuery();
  const q = query.get('q') ?? '';
  const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0);
  const search = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  if (q !== '') search.set('q', q);
  const page = await api.list<Client>(`/clients?${search.toString()}`);
  const status = h('div', { role: 'status' });
  const presetSelect = h('select', { id: 'new-preset', name: 'preset' }, ...Object.keys(PRESETS).map((key) => h('option', { value: key }, t(`preset.${key}`)))) as HTMLSelectElement;
  const redirectField = textField('redirect_uris', t('clients.new.redirect'), '', { type: 'url', hint: t('clients.new.redirectHint') });
  presetSelect.addEventListener('change', () => {
    redirectField.hidden = !PRESETS[presetSelect.value]!.redirect;
  });
  const form = h(
    'form',
    { 'aria-labelledby': 'new-heading' },
    h('h2', { id: 'new-heading' }, t('clients.new.heading')),
    h('div', { class: 'field' }, h('label', { for: 'new-preset' }, t('clients.new.preset')), presetSelect),
    textField('name', t('clients.new.name'), '', { required: true }),
    redirectField,
    h('button', { type: 'submit' }, t('clients.new.create')),
    status,
  ) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const preset = PRESETS[String(data.get('preset'))]!;
    const redirect = String(data.get('redirect_uris') ?? '').trim();
    const body = { ...preset.body, name: String(data.get('name') ?? ''), ...(preset.redirect && redirect !== '' ? { redirect_uris: [redirect] } : {}) };
    api.post<Client>('/clients', body).then(
      (created) => clientListPage(root, api, created),
      (error: unknown) => showError(form, status, error, details(error)),
    );
  });
  const searchForm = h('form', { role: 'search' }, h('label', { for: 'client-search' }, t('clients.search')), h('div', { class: 'inline' }, h('input', { id: 'client-search', name: 'q', type: 'search', value: q }), h('button', { type: 'submit' }, t('search.button')))) as HTMLFormElement;
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = String(new FormData(searchForm).get('q') ?? '').trim();
    location.hash = value === '' ? '#/clients' : `#/clients?q=${encodeURIComponent(value)}`;
  });
  const list =
    page.items.length === 0
      ? h('p', {}, t('clients.empty'))
      : table(
          t('clients.heading'),
          [t('clients.col.id'), t('clients.col.name'), t('clients.col.type'), [t('clients.col.grants'), 'optional']],
          page.items.map((client) => [h('a', { class: 'id', href: `#/clients/${encodeURIComponent(client.client_id)}` }, client.client_id), client.name, h('span', { class: 'kind' }, t(`clients.type.${client.type}`)), grantList(client.grant_types)]),
          { labelledBy: 'page-heading' },
        );
  render(
    root,
    h('h1', { id: 'page-heading' }, t('clients.heading')),
    shown?.client_secret !== undefined ? secretCard(shown, () => void clientListPage(root, api)) : null,
    h('section', { class: 'card' }, searchForm, list, pager('#/clients', query, offset, PAGE, page.total)),
    h('section', { class: 'card' }, form),
  );
}

const pretty = (value: unknown) => (value === null || value === undefined ? '' : JSON.stringify(value, null, 2));
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The form's values as an admin API patch of the fields that changed; JSON fields that do not parse are field errors. */
function patchOf(form: HTMLFormElement, client: Client): { patch: Record<string, unknown>; problems: FieldDetail[] } {
  const data = new FormData(form);
  const text = (name: string) => String(data.get(name) ?? '').trim();
  const wanted: Record<string, unknown> = { name: text('name') };
  for (const name of LIST_FIELDS) wanted[name] = lines(data.get(name));
  for (const name of URL_FIELDS) wanted[name] = text(name) === '' ? null : text(name);
  for (const name of SWITCHES) wanted[name] = data.get(name) !== null;
  wanted.grant_types = data.getAll('grant_types').map(String);
  wanted.scope = text('scope') === '' ? null : text('scope');
  // Space-separated as scope. Empty: unset, or kept empty where the client says none explicitly (a
  // Keycloak-claims client unset gets profile and email, src/oidc/default-scopes.ts).
  wanted.default_scopes = text('default_scopes') !== '' ? text('default_scopes').split(/\s+/) : client.default_scopes?.length === 0 ? [] : null;
  wanted.default_api = text('default_api') === '' ? null : text('default_api');
  wanted.service_account_roles = lines(data.get('service_account_roles'));
  if (data.has('token_endpoint_auth_method')) wanted.token_endpoint_auth_method = text('token_endpoint_auth_method');
  wanted.token_claims = text('token_claims') || 'gatehouse';
  wanted.userinfo_signed_response_alg = text('userinfo_signed_response_alg') === '' ? null : text('userinfo_signed_response_alg');
  wanted.application_type = text('application_type') || 'web';
  const problems: FieldDetail[] = [];
  for (const name of JSON_FIELDS) {
    const raw = text(name);
    try {
      wanted[name] = raw === '' ? null : (JSON.parse(raw) as unknown);
    } catch {
      problems.push({ path: name, message: t('client.json.invalid') });
    }
  }
  const current: Record<string, unknown> = { ...client, jwks: client.jwks, api_scopes: client.api_scopes };
  const patch: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(wanted)) {
    const before = current[name];
    // Switches the API reports as false when unset: unchanged unless toggled.
    if (!same(value, before)) patch[name] = value;
  }
  return { patch, problems };
}

function fieldset(legend: string, ...children: HTMLElement[]): HTMLElement {
  return h('fieldset', {}, h('legend', {}, legend), ...children);
}

export async function clientPage(root: HTMLElement, api: AdminApi, clientId: string, message?: string): Promise<void> {
  const client = await api.get<Client>(`/clients/${encodeURIComponent(clientId)}`);
  const path = `/clients/${encodeURIComponent(clientId)}`;
  const status = h('div', { role: 'status' });
  const list = (name: (typeof LIST_FIELDS)[number]) => areaField(name, t(`client.field.${name}`), ((client[name] as string[] | undefined) ?? []).join('\n'), t('client.hint.lines'));
  const url = (name: (typeof URL_FIELDS)[number]) => textField(name, t(`client.field.${name}`), client[name], { type: 'url' });
  const toggle = (name: (typeof SWITCHES)[number]) => checkField(name, t(`client.field.${name}`), client[name] === true, t(`client.hint.${name}`));
  const grants = h(
    'fieldset',
    { id: 'f-grant_types', class: 'field' },
    h('legend', {}, t('client.field.grant_types')),
    ...GRANT_TYPES.map((grant) =>
      h('div', { class: 'check' }, h('input', { type: 'checkbox', id: `grant-${grant.replace(/\W/g, '-')}`, name: 'grant_types', value: grant, checked: client.grant_types.includes(grant) }), h('label', { for: `grant-${grant.replace(/\W/g, '-')}` }, grantLabel(grant), ' ', h('code', {}, grant))),
    ),
  );
  // The same choice as an API's (shared strings): keycloak = every token of this client carries Keycloak's claims.
  const tokenClaims = selectField('token_claims', t('api.field.token_claims'), [['gatehouse', t('api.claims.gatehouse')], ['keycloak', t('api.claims.keycloak')]], (client.token_claims as string | undefined) ?? 'gatehouse');
  // Keycloak's "User info signed response algorithm": unset answers JSON.
  const userinfoAlg = selectField(
    'userinfo_signed_response_alg',
    t('client.field.userinfo_signed_response_alg'),
    [['', t('client.userinfoAlg.none')], ['RS256', 'RS256'], ['ES256', 'ES256']],
    client.userinfo_signed_response_alg as string | null | undefined,
  );
  const applicationType = selectField('application_type', t('client.field.application_type'), [['web', t('appType.web')], ['native', t('appType.native')]], (client.application_type as string | undefined) ?? 'web');
  const method =
    client.type === 'public'
      ? h('p', { class: 'hint' }, t('client.publicMethod'))
      : selectField('token_endpoint_auth_method', t('client.field.token_endpoint_auth_method'), CONFIDENTIAL_METHODS.map((value) => [value, t(`authMethod.${value}`)] as const), client.token_endpoint_auth_method);
  const form = h(
    'form',
    { 'aria-labelledby': 'edit-heading', novalidate: true },
    h('h2', { id: 'edit-heading' }, t('client.edit.heading')),
    fieldset(t('client.group.basics'), textField('name', t('client.field.name'), client.name), toggle('first_party')),
    fieldset(t('client.group.signIn'), applicationType, list('redirect_uris'), list('post_logout_redirect_uris'), list('web_origins'), grants, textField('scope', t('client.field.scope'), client.scope, { hint: t('client.hint.scope') }), textField('default_scopes', t('client.field.default_scopes'), client.default_scopes?.join(' '), { hint: t('client.hint.default_scopes') }), toggle('require_pkce'), toggle('require_mfa'), toggle('allow_password_grant'), toggle('minimal_id_token'), tokenClaims, userinfoAlg),
    fieldset(
      t('client.group.apis'),
      list('apis'),
      textField('default_api', t('client.field.default_api'), client.default_api, { type: 'url' }),
      toggle('login_uses_default_api'),
      areaField('service_account_roles', t('client.field.service_account_roles'), (client.service_account_roles ?? []).join('\n'), t('client.hint.service_account_roles')),
      areaField('api_scopes', t('client.field.api_scopes'), pretty(client.api_scopes), t('client.hint.api_scopes')),
      areaField('token_exchange', t('client.field.token_exchange'), pretty(client.token_exchange), t('client.hint.token_exchange')),
    ),
    fieldset(t('client.group.auth'), method, areaField('jwks', t('client.field.jwks'), pretty(client.jwks), t('client.hint.jwks')), url('jwks_uri')),
    fieldset(t('client.group.logout'), url('backchannel_logout_uri'), toggle('backchannel_logout_session_required')),
    fieldset(t('client.group.links'), url('logo_uri'), url('client_uri'), url('policy_uri'), url('tos_uri')),
    h('button', { type: 'submit' }, t('client.save')),
    status,
  ) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const { patch, problems } = patchOf(form, client);
    if (problems.length > 0) return showError(form, status, new Error(problems[0]!.message), problems);
    if (Object.keys(patch).length === 0) {
      status.replaceChildren(notice(t('client.unchanged')));
      return;
    }
    api.patch<Client>(path, patch).then(
      () => clientPage(root, api, clientId, t('client.saved')),
      (error: unknown) => showError(form, status, error, details(error)),
    );
  });

  const rotateStatus = h('div', { role: 'status' });
  // Until when the secret before the last rotation is accepted: one line, replaced by each rotation (the page's own said an earlier end beside the new one).
  const previousEnd = (client: Client) => (client.previous_secret_expires_at == null ? [] : [notice(t('client.rotate.previous', { time: when(client.previous_secret_expires_at) }))]);
  const previous = h('div', {}, ...previousEnd(client));
  const grace = selectField('grace', t('client.rotate.grace'), ['0', '3600', '86400', '604800', '2592000'].map((seconds) => [seconds, t(`client.rotate.grace.${seconds}`)] as const), '0');
  const graceSelect = () => grace.querySelector('select')!;
  // The confirmation names the grace period chosen (one of the select's own, so no count to inflect), its number and unit on one line.
  const graceLine = h('p', { class: 'confirm-detail', id: 'rotate-grace-line', 'data-testid': 'rotate-grace' });
  const sayGrace = () => {
    const seconds = graceSelect().value;
    graceLine.textContent = seconds === '0' ? t('client.rotate.confirm_at_once') : t('client.rotate.confirm_grace', { period: t(`client.rotate.grace.${seconds}`).replaceAll(' ', '\u00a0') });
  };
  graceSelect().addEventListener('change', sayGrace);
  sayGrace();
  const rotate =
    client.has_secret === true || (client.type === 'confidential' && client.token_endpoint_auth_method !== 'private_key_jwt')
      ? h(
          'section',
          { class: 'card', 'aria-labelledby': 'rotate-heading' },
          h('h2', { id: 'rotate-heading' }, t('client.rotate.heading')),
          h('p', {}, t('client.rotate.text_grace')),
          previous,
          // A grace period (Keycloak's secret rotation policy): the old secret keeps authenticating that long.
          grace,
          // Confirmed first, as Keycloak's Regenerate is: without a grace the app using the old secret fails at once.
          confirmed(t('client.rotate.button'), t('client.rotate.confirm', { client: client.name }), () =>
            void api.post<Client>(`${path}/secret`, Number(graceSelect().value) > 0 ? { grace_seconds: Number(graceSelect().value) } : {}).then(
              (rotated) => {
                previous.replaceChildren(...previousEnd(rotated));
                rotateStatus.replaceChildren(secretCard(rotated, () => rotateStatus.replaceChildren()));
              },
              (error: unknown) => showError(null, rotateStatus, error, details(error)),
            ),
            graceLine,
          ),
          rotateStatus,
        )
      : null;

  const deletion =
    clientId === CONSOLE_CLIENT_ID || clientId === ACCOUNT_CLIENT_ID
      ? h('section', { class: 'card' }, h('p', {}, t(clientId === CONSOLE_CLIENT_ID ? 'client.builtIn' : 'client.builtInAccount')))
      : deleteCard({
          id: 'delete',
          heading: t('client.delete.heading'),
          text: t('client.delete.text'),
          button: t('client.delete.button'),
          confirm: t('client.delete.confirm', { client: clientId }),
          remove: () => api.delete(path),
          back: '#/clients',
          details,
        });

  render(
    root,
    h('p', {}, h('a', { href: '#/clients' }, t('client.back'))),
    h('h1', {}, t('client.heading', { client: client.name })),
    message === undefined ? null : notice(message),
    h('section', { class: 'card' }, facts([[t('clients.col.id'), h('code', {}, client.client_id)], [t('clients.col.type'), t(`clients.type.${client.type}`)], [t('clients.col.grants'), h('ul', { class: 'grants' }, ...client.grant_types.map((grant) => h('li', {}, h('span', { title: grant }, grantLabel(grant)), ' ', h('code', {}, grant))))], ...importMarkFact(client.imported_from)])),
    h('section', { class: 'card' }, form),
    rotate,
    deletion,
  );
}
