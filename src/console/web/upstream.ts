/// <reference lib="dom" />
import type { UpstreamProviderResponse as UpstreamProvider } from '../../admin/responses.ts';
import { ApiError, type AdminApi } from './api.ts';
import { areaField, checkField, deleteCard, facts, h, hashQuery, lines, notice, render, selectField, showError, t, table, textField, when, words, type FieldDetail } from './ui.ts';
import { importMarkFact } from './import-mark.ts';
import { parseRules, ruleLine, type RuleText } from './upstream-rules.ts';

/** What the create form offers: the API's presets, then a custom provider of either kind. */
const CHOICES = ['google', 'microsoft', 'github', 'gitlab', 'keycloak', 'oidc', 'oauth2'] as const;
type Choice = (typeof CHOICES)[number];
const ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint'] as const;
/** The fields each choice asks for besides alias, display name, client id and secret (API field names). */
const CHOICE_FIELDS: Record<Choice, readonly string[]> = {
  google: [],
  microsoft: ['tenant'],
  github: [],
  gitlab: ['base_url'],
  keycloak: ['base_url'],
  oidc: ['issuer'],
  oauth2: ENDPOINTS,
};
const CLAIMS = ['subject', 'username', 'email', 'email_verified', 'name', 'picture'] as const;
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
const SWITCHES = ['enabled', 'create_accounts', 'link_by_email', 'trust_email', 'upstream_logout', 'hide_on_login'] as const;
const URLS = ['icon_url', 'issuer', ...ENDPOINTS] as const;

// A taken alias is a 409 whose detail names the alias field (code upstream_exists).
const details = (error: unknown): FieldDetail[] => (error instanceof ApiError ? [...error.details] : []);

const visibility = (provider: UpstreamProvider) =>
  [provider.clients === null ? t('upstream.visibility.all') : t('upstream.visibility.some', { count: provider.clients.length }, provider.clients.length), ...(provider.hide_on_login ? [t('upstream.visibility.hidden')] : [])].join(' · ');
const badge = (on: boolean) => h('span', { class: `badge ${on ? 'on' : 'off'}` }, on ? t('upstream.enabled') : t('upstream.disabled'));

export async function upstreamListPage(root: HTMLElement, api: AdminApi): Promise<void> {
  const providers = await api.get<UpstreamProvider[]>('/upstream-providers');
  const list =
    providers.length === 0
      ? h('p', {}, t('upstream.empty'))
      : table(
          t('upstream.heading'),
          [t('upstream.col.name'), [t('upstream.col.alias'), 'optional'], t('upstream.col.kind'), t('upstream.col.status'), [t('upstream.col.visibility'), 'optional']],
          providers.map((provider) => [
            h('a', { href: `#/upstream/${encodeURIComponent(provider.alias)}` }, provider.display_name),
            h('code', {}, provider.alias),
            t(`upstream.kind.${provider.kind}`),
            badge(provider.enabled),
            visibility(provider),
          ]),
          { labelledBy: 'page-heading' },
        );
  render(root, h('h1', { id: 'page-heading' }, t('upstream.heading')), h('p', {}, t('upstream.text')), h('section', { class: 'card' }, list), h('section', { class: 'card' }, createForm(api)));
}

function createForm(api: AdminApi): HTMLElement {
  const status = h('div', { role: 'status' });
  const choice = h('select', { id: 'new-upstream-preset', name: 'preset' }, ...CHOICES.map((key) => h('option', { value: key }, t(`upstream.preset.${key}`)))) as HTMLSelectElement;
  const extras: Record<'tenant' | 'base_url' | 'issuer' | (typeof ENDPOINTS)[number], HTMLElement> = {
    tenant: textField('tenant', t('upstream.field.tenant'), '', { hint: t('upstream.hint.tenant') }),
    base_url: textField('base_url', t('upstream.field.realm'), '', { type: 'url', hint: t('upstream.hint.realm') }),
    issuer: textField('issuer', t('upstream.field.issuer'), '', { type: 'url', hint: t('upstream.hint.issuer') }),
    authorization_endpoint: textField('authorization_endpoint', t('upstream.field.authorization_endpoint'), '', { type: 'url' }),
    token_endpoint: textField('token_endpoint', t('upstream.field.token_endpoint'), '', { type: 'url' }),
    userinfo_endpoint: textField('userinfo_endpoint', t('upstream.field.userinfo_endpoint'), '', { type: 'url' }),
  };
  const presetHint = h('p', { class: 'hint', id: 'new-upstream-preset-hint' });
  choice.setAttribute('aria-describedby', 'new-upstream-preset-hint');
  // One form for every choice: the fields a choice does not use are hidden (and not sent).
  const show = () => {
    const wanted = CHOICE_FIELDS[choice.value as Choice];
    for (const [name, field] of Object.entries(extras)) field.hidden = !wanted.includes(name);
    const base = extras.base_url;
    const gitlab = choice.value === 'gitlab';
    base.querySelector('label')!.textContent = t(gitlab ? 'upstream.field.gitlab' : 'upstream.field.realm');
    base.querySelector('.hint')!.textContent = t(gitlab ? 'upstream.hint.gitlab' : 'upstream.hint.realm');
    presetHint.textContent = t(`upstream.presetHint.${choice.value}`);
  };
  choice.addEventListener('change', show);
  const form = h(
    'form',
    { 'aria-labelledby': 'new-upstream-heading', novalidate: true },
    h('h2', { id: 'new-upstream-heading' }, t('upstream.new.heading')),
    h('div', { class: 'field' }, h('label', { for: 'new-upstream-preset' }, t('upstream.new.preset')), choice, presetHint),
    textField('alias', t('upstream.field.alias'), '', { required: true, hint: t('upstream.hint.alias') }),
    textField('display_name', t('upstream.field.display_name'), '', { hint: t('upstream.hint.display_name') }),
    ...Object.values(extras),
    textField('client_id', t('upstream.field.client_id'), '', { required: true, hint: t('upstream.hint.client_id') }),
    textField('client_secret', t('upstream.field.client_secret'), '', { type: 'password', autocomplete: 'new-password', hint: t('upstream.hint.newSecret') }),
    h('p', { class: 'hint' }, t('upstream.new.redirectLater')),
    h('button', { type: 'submit' }, t('upstream.new.create')),
    status,
  ) as HTMLFormElement;
  show();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    const picked = choice.value as Choice;
    const body: Record<string, unknown> = { alias: text('alias'), client_id: text('client_id') };
    if (picked === 'oidc' || picked === 'oauth2') body.kind = picked;
    else body.preset = picked;
    if (text('display_name') !== '') body.display_name = text('display_name');
    // A secret is sent as typed (not trimmed) and only when given.
    const secret = String(data.get('client_secret') ?? '');
    if (secret !== '') body.client_secret = secret;
    for (const name of CHOICE_FIELDS[picked]) if (text(name) !== '') body[name] = text(name);
    api.post<UpstreamProvider>('/upstream-providers', body).then(
      (created) => {
        location.hash = `#/upstream/${encodeURIComponent(created.alias)}?created`;
      },
      (error: unknown) => showError(form, status, error, details(error)),
    );
  });
  return form;
}

type RuleField = 'role_mappings' | 'group_mappings';
const RULE_TARGET = { role_mappings: 'role', group_mappings: 'group' } as const;

/** A provider's rules of one kind as the console shows them (upstream-rules.ts). */
function shownRules(provider: UpstreamProvider, field: RuleField): RuleText[] {
  return field === 'role_mappings'
    ? provider.role_mappings.map((rule) => ({ claim: rule.claim, value: rule.value, name: rule.role }))
    : provider.group_mappings.map((rule) => ({ claim: rule.claim, value: rule.value, name: rule.group }));
}

/** The textarea's lines as the API's rules; a line that is not a rule is said under the field, with its line. */
function rulesOf(raw: FormDataEntryValue | null, provider: UpstreamProvider, field: RuleField, problems: FieldDetail[]): Array<Record<string, string>> {
  const shown = new Map(shownRules(provider, field).map((rule) => [ruleLine(rule).trim(), rule]));
  const rules = parseRules(lines(raw), shown, (index, line, why) => problems.push({ path: `${field}.${index}`, message: t(`upstream.rule.${why}`, { line }) }));
  return rules.map((rule) => ({ claim: rule.claim, value: rule.value, [RULE_TARGET[field]]: rule.name }));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The form as an admin API patch of what changed; a new secret or key only when one was typed. */
function patchOf(form: HTMLFormElement, provider: UpstreamProvider): { patch: Record<string, unknown>; problems: FieldDetail[] } {
  const data = new FormData(form);
  const text = (name: string) => String(data.get(name) ?? '').trim();
  const problems: FieldDetail[] = [];
  const wanted: Record<string, unknown> = {
    display_name: text('display_name'),
    client_id: text('client_id'),
    token_endpoint_auth_method: text('token_endpoint_auth_method'),
    scopes: words(data.get('scopes')),
    role_mappings: rulesOf(data.get('role_mappings'), provider, 'role_mappings', problems),
    group_mappings: rulesOf(data.get('group_mappings'), provider, 'group_mappings', problems),
    mapping_mode: text('mapping_mode'),
    allowed_domains: words(data.get('allowed_domains')),
    home_domains: words(data.get('home_domains')),
    clients: text('visibility') === 'all' ? null : lines(data.get('clients')),
  };
  for (const name of URLS) if (data.has(name)) wanted[name] = text(name) === '' ? null : text(name);
  for (const name of SWITCHES) wanted[name] = data.get(name) !== null;
  const current = provider as unknown as Record<string, unknown>;
  const patch: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(wanted)) if (!same(value, current[name])) patch[name] = value;
  const claims: Record<string, string> = {};
  for (const name of CLAIMS) if (text(`claims.${name}`) !== provider.claims[name]) claims[name] = text(`claims.${name}`);
  if (Object.keys(claims).length > 0) patch.claims = claims;
  const secret = String(data.get('client_secret') ?? '');
  if (secret !== '') patch.client_secret = secret;
  const key = text('private_key_jwk');
  if (key !== '') {
    try {
      patch.private_key_jwk = JSON.parse(key) as unknown;
    } catch {
      problems.push({ path: 'private_key_jwk', message: t('client.json.invalid') });
    }
  }
  return { patch, problems };
}

function fieldset(legend: string, ...children: Array<HTMLElement | null>): HTMLElement {
  return h('fieldset', {}, h('legend', {}, legend), ...children);
}

/** The redirect URI to register upstream, with a copy button (the clipboard needs HTTPS or localhost). */
function redirectCard(provider: UpstreamProvider, created: boolean): HTMLElement {
  const copied = h('span', { role: 'status', class: 'hint' });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'redirect-heading' },
    h('h2', { id: 'redirect-heading' }, t('upstream.redirect.heading')),
    created ? h('p', { class: 'notice' }, t('upstream.created', { name: provider.display_name })) : null,
    h('p', { id: 'redirect-label' }, t('upstream.redirect.text', { name: provider.display_name })),
    h('code', { class: 'secret', 'data-testid': 'redirect-uri', 'aria-labelledby': 'redirect-label' }, provider.redirect_uri),
    h('button', {
      type: 'button',
      class: 'secondary',
      onclick: () => {
        if (navigator.clipboard === undefined) return copied.replaceChildren(t('secret.copyFailed'));
        navigator.clipboard.writeText(provider.redirect_uri).then(
          () => copied.replaceChildren(t('secret.copied')),
          () => copied.replaceChildren(t('secret.copyFailed')),
        );
      },
    }, t('upstream.redirect.copy')),
    copied,
    h('h3', { id: 'logout-redirect-heading' }, t('upstream.redirect.logoutLabel')),
    h('p', { id: 'logout-redirect-label' }, t('upstream.redirect.logoutText', { name: provider.display_name })),
    h('code', { class: 'secret', 'data-testid': 'post-logout-redirect-uri', 'aria-labelledby': 'logout-redirect-label' }, provider.post_logout_redirect_uri),
  );
}

export async function upstreamPage(root: HTMLElement, api: AdminApi, alias: string, message?: string): Promise<void> {
  const path = `/upstream-providers/${encodeURIComponent(alias)}`;
  const provider = await api.get<UpstreamProvider>(path);
  // "Added" is said once: the route loses its ?created (no hashchange, so no second render).
  const created = message === undefined && hashQuery().has('created');
  if (created) history.replaceState(null, '', `#/upstream/${encodeURIComponent(alias)}`);
  const status = h('div', { role: 'status' });
  const url = (name: (typeof URLS)[number], hint?: string) => textField(name, t(`upstream.field.${name}`), provider[name], { type: 'url', ...(hint === undefined ? {} : { hint }) });
  const toggle = (name: (typeof SWITCHES)[number]) => checkField(name, t(`upstream.field.${name}`), provider[name], t(`upstream.hint.${name}`));
  const rules = (name: RuleField) => areaField(name, t(`upstream.field.${name}`), shownRules(provider, name).map(ruleLine).join('\n'), t(`upstream.hint.${name}`));
  const secretState = provider.has_secret ? t('upstream.secret.set') : t('upstream.secret.unset');
  const clients = areaField('clients', t('upstream.field.clients'), (provider.clients ?? []).join('\n'), t('upstream.hint.clients'));
  const visibilitySelect = selectField('visibility', t('upstream.field.visibility'), [['all', t('upstream.visibility.all')], ['listed', t('upstream.visibility.listed')]], provider.clients === null ? 'all' : 'listed');
  const select = visibilitySelect.querySelector('select')!;
  const syncClients = () => {
    clients.hidden = select.value === 'all';
  };
  select.addEventListener('change', syncClients);
  syncClients();
  const form = h(
    'form',
    { 'aria-labelledby': 'upstream-edit-heading', novalidate: true },
    h('h2', { id: 'upstream-edit-heading' }, t('upstream.edit.heading')),
    fieldset(t('upstream.group.basics'), textField('display_name', t('upstream.field.display_name'), provider.display_name), url('icon_url'), toggle('enabled')),
    fieldset(
      t('upstream.group.connection'),
      provider.kind === 'oidc' ? url('issuer', t('upstream.hint.issuer')) : null,
      ...ENDPOINTS.map((name) => url(name, provider.kind === 'oidc' ? t('upstream.hint.endpointOverride') : undefined)),
      textField('scopes', t('upstream.field.scopes'), provider.scopes.join(' '), { hint: t('upstream.hint.scopes') }),
    ),
    fieldset(
      t('upstream.group.credentials'),
      textField('client_id', t('upstream.field.client_id'), provider.client_id),
      selectField('token_endpoint_auth_method', t('upstream.field.token_endpoint_auth_method'), AUTH_METHODS.map((value) => [value, t(`upstream.auth.${value}`)] as const), provider.token_endpoint_auth_method),
      textField('client_secret', t('upstream.field.newSecret'), '', { type: 'password', autocomplete: 'new-password', hint: t('upstream.hint.secretState', { state: secretState }) }),
      areaField('private_key_jwk', t('upstream.field.private_key_jwk'), '', t('upstream.hint.privateKey', { state: provider.has_private_key ? t('upstream.secret.set') : t('upstream.secret.unset') })),
    ),
    fieldset(t('upstream.group.claims'), h('p', { class: 'hint' }, t('upstream.hint.claims')), ...CLAIMS.map((name) => textField(`claims.${name}`, t(`upstream.claim.${name}`), provider.claims[name]))),
    fieldset(
      t('upstream.group.mapping'),
      rules('role_mappings'),
      rules('group_mappings'),
      selectField('mapping_mode', t('upstream.field.mapping_mode'), [['every_sign_in', t('upstream.mapping.every_sign_in')], ['first_sign_in', t('upstream.mapping.first_sign_in')]], provider.mapping_mode),
    ),
    fieldset(
      t('upstream.group.accounts'),
      toggle('create_accounts'),
      toggle('link_by_email'),
      toggle('trust_email'),
      textField('allowed_domains', t('upstream.field.allowed_domains'), provider.allowed_domains.join(' '), { hint: t('upstream.hint.allowed_domains') }),
      textField('home_domains', t('upstream.field.home_domains'), provider.home_domains.join(' '), { hint: t('upstream.hint.home_domains') }),
    ),
    fieldset(t('upstream.group.visibility'), visibilitySelect, clients, toggle('hide_on_login')),
    fieldset(t('upstream.group.logout'), toggle('upstream_logout')),
    h('button', { type: 'submit' }, t('upstream.save')),
    status,
  ) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const { patch, problems } = patchOf(form, provider);
    if (problems.length > 0) return showError(form, status, new Error(problems[0]!.message), problems);
    if (Object.keys(patch).length === 0) {
      status.replaceChildren(notice(t('client.unchanged')));
      return;
    }
    api.patch<UpstreamProvider>(path, patch).then(
      () => upstreamPage(root, api, alias, t('upstream.saved')),
      (error: unknown) => showError(form, status, error, details(error)),
    );
  });

  const deletion = deleteCard({
    id: 'upstream-delete',
    heading: t('upstream.delete.heading'),
    text: t('upstream.delete.text'),
    button: t('upstream.delete.button'),
    confirm: t('upstream.delete.confirm', { alias }),
    remove: () => api.delete(path),
    back: '#/upstream',
    details,
  });

  render(
    root,
    h('p', {}, h('a', { href: '#/upstream' }, t('upstream.back'))),
    h('h1', {}, t('upstream.item.heading', { name: provider.display_name })),
    message === undefined ? null : notice(message),
    h(
      'section',
      { class: 'card' },
      facts([
        [t('upstream.col.alias'), h('code', {}, provider.alias)],
        [t('upstream.col.kind'), t(`upstream.kind.${provider.kind}`)],
        [t('upstream.col.status'), badge(provider.enabled)],
        [t('upstream.col.visibility'), visibility(provider)],
        [t('upstream.secret'), secretState],
        [t('upstream.updated'), when(provider.updated_at)],
        ...importMarkFact(provider.imported_from),
      ]),
    ),
    redirectCard(provider, created),
    h('section', { class: 'card' }, form),
    deletion,
  );
}
