/// <reference lib="dom" />
import type { SettingsGroupResponse } from '../../admin/responses.ts';
import { ApiError, type AdminApi } from './api.ts';
import { confirmed, currentLocale, h, notice, render, showError, t, nameList } from './ui.ts';
import { listIn } from './list-format.ts';

type GroupView = SettingsGroupResponse;
type Setting = GroupView['settings'][string];

/** A control: a whole number within bounds, a comma-separated list of names, a yes/no, or one of a few values. */
type Field =
  | { readonly name: string; readonly kind: 'number'; readonly min: number; readonly max: number }
  | { readonly name: string; readonly kind: 'list' }
  | { readonly name: string; readonly kind: 'boolean' }
  | { readonly name: string; readonly kind: 'choice'; readonly options: readonly string[] | readonly number[] };

interface Group {
  /** The admin API's /settings/<id> and the strings' prefix (securitySettings.<key>.*). */
  readonly id: 'password-policy' | 'brute-force' | 'mfa' | 'otp';
  readonly key: 'password' | 'bruteForce' | 'mfa' | 'otp';
  readonly fields: readonly Field[];
}

const YEAR = 365 * 86_400;
const GROUPS: readonly Group[] = [
  {
    id: 'password-policy',
    key: 'password',
    fields: [
      { name: 'password_min_length', kind: 'number', min: 8, max: 1024 },
      { name: 'password_max_length', kind: 'number', min: 8, max: 1024 },
      { name: 'password_digits', kind: 'number', min: 0, max: 128 },
      { name: 'password_lowercase', kind: 'number', min: 0, max: 128 },
      { name: 'password_uppercase', kind: 'number', min: 0, max: 128 },
      { name: 'password_special', kind: 'number', min: 0, max: 128 },
      { name: 'password_not_username', kind: 'boolean' },
      { name: 'password_not_email', kind: 'boolean' },
      { name: 'password_history', kind: 'number', min: 0, max: 24 },
    ],
  },
  {
    id: 'brute-force',
    key: 'bruteForce',
    fields: [
      { name: 'lockout_threshold', kind: 'number', min: 1, max: 1000 },
      { name: 'lockout_account_threshold', kind: 'number', min: 1, max: 100_000 },
      { name: 'lockout_ip_threshold', kind: 'number', min: 1, max: 1_000_000 },
      { name: 'lockout_window', kind: 'number', min: 1, max: YEAR },
      { name: 'lockout_seconds', kind: 'number', min: 1, max: YEAR },
      { name: 'lockout_max_seconds', kind: 'number', min: 1, max: YEAR },
    ],
  },
  { id: 'mfa', key: 'mfa', fields: [{ name: 'mfa_required_roles', kind: 'list' }, { name: 'mfa_required_groups', kind: 'list' }] },
  {
    id: 'otp',
    key: 'otp',
    fields: [
      { name: 'otp_digits', kind: 'choice', options: [6, 8] },
      { name: 'otp_period', kind: 'choice', options: [30, 60] },
      { name: 'otp_algorithm', kind: 'choice', options: ['SHA1', 'SHA256', 'SHA512'] },
      { name: 'otp_look_ahead', kind: 'number', min: 0, max: 10 },
    ],
  },
];

function shown(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? t('securitySettings.nobody') : listIn(currentLocale(), value.map(String));
  if (typeof value === 'boolean') return t(value ? 'securitySettings.on' : 'securitySettings.off');
  return String(value);
}

/** Under each control: what it means, then where its value comes from; a pinned one names its environment variable. */
function hint(field: Field, setting: Setting): HTMLElement {
  const source =
    setting.pinned_by !== null
      ? t('signInSettings.pinned', { env: setting.pinned_by })
      : setting.source === 'stored'
        ? t('signInSettings.stored', { value: shown(setting.default) })
        : t('signInSettings.default', { env: setting.env });
  const locked = setting.pinned_by !== null;
  return h('p', { class: 'hint', id: `f-${field.name}-hint` }, `${t(`securitySettings.hint.${field.name}`)} `, locked ? h('span', { class: 'badge' }, t('signInSettings.locked')) : null, locked ? ' ' : null, source);
}

function control(field: Field, setting: Setting): HTMLElement {
  const common = { id: `f-${field.name}`, name: field.name, disabled: setting.pinned_by !== null, 'aria-describedby': `f-${field.name}-hint` };
  const label = h('label', { for: `f-${field.name}` }, t(`securitySettings.field.${field.name}`));
  if (field.kind === 'boolean') {
    return h('div', { class: 'field check' }, h('input', { ...common, type: 'checkbox', checked: setting.value === true }), label, hint(field, setting));
  }
  if (field.kind === 'choice') {
    return h(
      'div',
      { class: 'field' },
      label,
      h('select', common, ...field.options.map((option) => h('option', { value: String(option), selected: option === setting.value }, String(option)))),
      hint(field, setting),
    );
  }
  const value = Array.isArray(setting.value) ? setting.value.join(', ') : String(setting.value);
  return h(
    'div',
    { class: 'field' },
    label,
    h('input', {
      ...common,
      type: field.kind === 'number' ? 'number' : 'text',
      value,
      min: field.kind === 'number' ? String(field.min) : undefined,
      max: field.kind === 'number' ? String(field.max) : undefined,
      inputmode: field.kind === 'number' ? 'numeric' : undefined,
      autocomplete: 'off',
    }),
    hint(field, setting),
  );
}

/** The form's values that differ from what is in force, in the admin API's terms (pinned ones left out). */
function patchOf(form: HTMLFormElement, group: Group, view: GroupView): Record<string, unknown> {
  const data = new FormData(form);
  const patch: Record<string, unknown> = {};
  for (const field of group.fields) {
    const setting = view.settings[field.name];
    if (setting === undefined || setting.pinned_by !== null) continue;
    const raw = data.get(field.name);
    // A number field left empty or with text goes to the API as typed, so its 400 names the field.
    const number = (text: FormDataEntryValue | null) => (text === null || String(text).trim() === '' || Number.isNaN(Number(text)) ? String(text ?? '') : Number(text));
    const value =
      field.kind === 'list'
        ? nameList(raw)
        : field.kind === 'boolean'
          ? raw !== null
          : field.kind === 'choice'
            ? typeof field.options[0] === 'number'
              ? number(raw)
              : String(raw ?? '')
            : number(raw);
    if (JSON.stringify(value) !== JSON.stringify(setting.value)) patch[field.name] = value;
  }
  return patch;
}

function groupCard(root: HTMLElement, api: AdminApi, group: Group, view: GroupView, message: string | undefined): HTMLElement {
  const headingId = `${group.id}-heading`;
  const status = h('div', { role: 'status' }, message === undefined ? null : notice(message));
  const editable = group.fields.some((field) => view.settings[field.name]?.pinned_by === null);
  const form = h(
    'form',
    { 'aria-labelledby': headingId, novalidate: true },
    ...group.fields.map((field) => control(field, view.settings[field.name]!)),
    editable ? h('button', { type: 'submit' }, t(`securitySettings.${group.key}.save`)) : null,
  ) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const patch = patchOf(form, group, view);
    if (Object.keys(patch).length === 0) {
      status.replaceChildren(notice(t('signInSettings.unchanged')));
      return;
    }
    void api.patch<GroupView>(`/settings/${group.id}`, patch).then(
      () => securitySettingsPage(root, api, { group: group.id, text: t('signInSettings.saved') }),
      (error: unknown) => showError(form, status, error, error instanceof ApiError ? error.details : []),
    );
  });
  const changedHere = group.fields.filter((field) => view.settings[field.name]?.source === 'stored').map((field) => field.name);
  const restore =
    changedHere.length === 0
      ? null
      : h(
          'div',
          { class: 'restore' },
          h('p', { id: `${group.id}-restore-text` }, t('signInSettings.restore.text', { names: listIn(currentLocale(), changedHere) })),
          confirmed(t(`securitySettings.${group.key}.restore`), t('signInSettings.restore.confirm'), () =>
            void api.patch<GroupView>(`/settings/${group.id}`, Object.fromEntries(changedHere.map((name) => [name, null]))).then(
              () => securitySettingsPage(root, api, { group: group.id, text: t('signInSettings.restored') }),
              (error: unknown) => showError(null, status, error, error instanceof ApiError ? error.details : []),
            ),
          ),
        );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': headingId, id: `group-${group.id}` },
    h('h2', { id: headingId }, t(`securitySettings.${group.key}.heading`)),
    h('p', {}, t(`securitySettings.${group.key}.text`)),
    form,
    status,
    restore,
  );
}

/**
 * Password policy, brute-force detection, the multi-factor requirement and the OTP policy (Keycloak:
 * Authentication → Policies, Realm settings → Security defenses): one card per admin API group, applied by every instance.
 */
export async function securitySettingsPage(root: HTMLElement, api: AdminApi, message?: { group: Group['id']; text: string }): Promise<void> {
  const views = await Promise.all(GROUPS.map((group) => api.get<GroupView>(`/settings/${group.id}`)));
  render(
    root,
    h('h1', {}, t('securitySettings.heading')),
    h('p', {}, h('a', { href: '#/settings' }, t('signInSettings.back'))),
    h('p', {}, t('securitySettings.text')),
    ...GROUPS.map((group, index) => groupCard(root, api, group, views[index]!, message?.group === group.id ? message.text : undefined)),
  );
}
