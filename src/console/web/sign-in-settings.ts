/// <reference lib="dom" />
import type { SignInSettingsResponse as SignInSettingsView } from '../../admin/responses.ts';
import { ApiError, type AdminApi } from './api.ts';
import { card, confirmed, currentLocale, h, notice, render, showError, t, nameList, words } from './ui.ts';
import { listIn } from './list-format.ts';

type Name = keyof SignInSettingsView['settings'];
type Setting = SignInSettingsView['settings'][Name];

const PATH = '/settings/sign-in';
const RULES = ['off', 'self-registered', 'all'] as const;

/** Under each control: where its value comes from; a pinned one names its environment variable. */
function sourceHint(name: Name, setting: Setting, extra?: string): HTMLElement {
  const text =
    setting.pinned_by !== null
      ? t('signInSettings.pinned', { env: setting.pinned_by })
      : setting.source === 'stored'
        ? t('signInSettings.stored', { value: name === 'require_verified_email' ? t(`signInSettings.rule.${String(setting.default)}`) : shown(name, setting.default) })
        : t('signInSettings.default', { env: setting.env });
  return h('p', { class: 'hint', id: `f-${name}-hint` }, extra === undefined ? null : `${extra} `, setting.pinned_by !== null ? h('span', { class: 'badge' }, t('signInSettings.locked')) : null, setting.pinned_by !== null ? ' ' : null, text);
}

function shown(name: Name, value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? t(name === 'default_roles' ? 'signInSettings.noRoles' : 'signInSettings.anyDomain') : listIn(currentLocale(), value.map(String));
  if (typeof value === 'boolean') return value ? t('yes') : t('no');
  return String(value);
}

function check(name: Name, label: string, setting: Setting, extra: string): HTMLElement {
  return h(
    'div',
    { class: 'field check' },
    h('input', { id: `f-${name}`, name, type: 'checkbox', checked: setting.value === true, disabled: setting.pinned_by !== null, 'aria-describedby': `f-${name}-hint` }),
    h('label', { for: `f-${name}` }, label),
    sourceHint(name, setting, extra),
  );
}

function input(name: Name, label: string, setting: Setting, options: { type: 'text' | 'number'; extra: string; min?: number; max?: number }): HTMLElement {
  const value = Array.isArray(setting.value) ? setting.value.join(', ') : String(setting.value);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: `f-${name}` }, label),
    h('input', {
      id: `f-${name}`,
      name,
      type: options.type,
      value,
      min: options.min === undefined ? undefined : String(options.min),
      max: options.max === undefined ? undefined : String(options.max),
      inputmode: options.type === 'number' ? 'numeric' : undefined,
      autocomplete: 'off',
      disabled: setting.pinned_by !== null,
      'aria-describedby': `f-${name}-hint`,
    }),
    sourceHint(name, setting, options.extra),
  );
}

function select(name: Name, label: string, setting: Setting): HTMLElement {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: `f-${name}` }, label),
    h('select', { id: `f-${name}`, name, disabled: setting.pinned_by !== null, 'aria-describedby': `f-${name}-hint` }, ...RULES.map((rule) => h('option', { value: rule, selected: rule === setting.value }, t(`signInSettings.rule.${rule}`)))),
    sourceHint(name, setting),
  );
}

/** What the form says about each setting that is not pinned, in the admin API's terms. */
function patchOf(form: HTMLFormElement, view: SignInSettingsView): Record<string, unknown> {
  const data = new FormData(form);
  const read: Record<Name, () => unknown> = {
    self_registration: () => data.get('self_registration') !== null,
    self_registration_domains: () => words(data.get('self_registration_domains')),
    require_verified_email: () => String(data.get('require_verified_email')),
    email_verification_ttl: () => Number(data.get('email_verification_ttl')),
    password_reset: () => data.get('password_reset') !== null,
    password_reset_ttl: () => Number(data.get('password_reset_ttl')),
    invitation_ttl: () => Number(data.get('invitation_ttl')),
    default_roles: () => nameList(data.get('default_roles')),
  };
  const patch: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(view.settings) as Array<[Name, Setting]>) {
    if (setting.pinned_by !== null) continue;
    const value = read[name]();
    if (JSON.stringify(value) !== JSON.stringify(setting.value)) patch[name] = value;
  }
  return patch;
}

/** Sign-in & self-service (Keycloak: Realm settings → Login): changed through the admin API, applied by every instance. */
export async function signInSettingsPage(root: HTMLElement, api: AdminApi, message?: string): Promise<void> {
  const view = await api.get<SignInSettingsView>(PATH);
  const s = view.settings;
  const status = h('div', { role: 'status' });
  const editable = Object.values(s).some((setting) => setting.pinned_by === null);
  const form = h(
    'form',
    { 'aria-labelledby': 'sign-in-settings-heading', novalidate: true },
    h(
      'fieldset',
      {},
      h('legend', {}, t('signInSettings.registration')),
      check('self_registration', t('signInSettings.self_registration'), s.self_registration, t('signInSettings.self_registrationHint')),
      input('self_registration_domains', t('signInSettings.self_registration_domains'), s.self_registration_domains, { type: 'text', extra: t('signInSettings.domainsHint') }),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, t('signInSettings.verification')),
      select('require_verified_email', t('signInSettings.require_verified_email'), s.require_verified_email),
      input('email_verification_ttl', t('signInSettings.email_verification_ttl'), s.email_verification_ttl, { type: 'number', min: 60, max: 2_592_000, extra: t('signInSettings.secondsHint') }),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, t('signInSettings.reset')),
      check('password_reset', t('signInSettings.password_reset'), s.password_reset, t('signInSettings.password_resetHint')),
      input('password_reset_ttl', t('signInSettings.password_reset_ttl'), s.password_reset_ttl, { type: 'number', min: 60, max: 86_400, extra: t('signInSettings.secondsHint') }),
      input('invitation_ttl', t('signInSettings.invitation_ttl'), s.invitation_ttl, { type: 'number', min: 60, max: 2_592_000, extra: t('signInSettings.secondsHint') }),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, t('signInSettings.newUsers')),
      input('default_roles', t('signInSettings.default_roles'), s.default_roles, { type: 'text', extra: t('signInSettings.default_rolesHint') }),
    ),
    editable ? h('button', { type: 'submit' }, t('signInSettings.save')) : null,
    status,
  ) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const patch = patchOf(form, view);
    if (Object.keys(patch).length === 0) {
      status.replaceChildren(notice(t('signInSettings.unchanged')));
      return;
    }
    void api.patch<SignInSettingsView>(PATH, patch).then(
      () => signInSettingsPage(root, api, t('signInSettings.saved')),
      (error: unknown) => showError(form, status, error, error instanceof ApiError ? error.details : []),
    );
  });
  // Settings changed here (not pinned) go back to the configured default in one PATCH of nulls.
  const changedHere = (Object.entries(s) as Array<[Name, Setting]>).filter(([, setting]) => setting.source === 'stored').map(([name]) => name);
  const restoreStatus = h('div', { role: 'status' });
  const restore =
    changedHere.length === 0
      ? null
      : card(
          'restore-defaults-heading',
          t('signInSettings.restore.heading'),
          h('p', {}, t('signInSettings.restore.text', { names: listIn(currentLocale(), changedHere) })),
          confirmed(t('signInSettings.restore.button'), t('signInSettings.restore.confirm'), () =>
            void api.patch<SignInSettingsView>(PATH, Object.fromEntries(changedHere.map((name) => [name, null]))).then(
              () => signInSettingsPage(root, api, t('signInSettings.restored')),
              (error: unknown) => showError(null, restoreStatus, error, error instanceof ApiError ? error.details : []),
            ),
          ),
          restoreStatus,
        );
  render(
    root,
    h('h1', {}, t('signInSettings.heading')),
    h('p', {}, h('a', { href: '#/settings' }, t('signInSettings.back'))),
    message === undefined ? null : notice(message),
    h('p', {}, t('signInSettings.text')),
    view.email_configured ? null : h('div', { class: 'alert', role: 'note' }, t('signInSettings.noEmail')),
    h('section', { class: 'card', 'aria-labelledby': 'sign-in-settings-heading' }, h('h2', { id: 'sign-in-settings-heading' }, t('signInSettings.formHeading')), form),
    restore,
  );
}
