/// <reference lib="dom" />
import type { ProfileResponse as Profile } from '../responses.ts';
import { field, problem, type Section } from './common.ts';
import { h, LOCALES, notice, render, t } from './ui.ts';

const TEXT_FIELDS = ['name', 'given_name', 'family_name', 'nickname'] as const;

export async function profilePage(section: Section, shown?: HTMLElement): Promise<void> {
  const profile = await section.api.get<Profile>('/profile');
  const status = h('div', { role: 'status' });
  const input = (name: string, value: string | null, type = 'text', autocomplete = 'off') => h('input', { id: `p-${name}`, name, type, value: value ?? '', autocomplete });
  const autocompletes: Record<string, string> = { name: 'name', given_name: 'given-name', family_name: 'family-name', nickname: 'nickname' };
  const localeSelect = h(
    'select',
    { id: 'p-locale', name: 'locale' },
    h('option', { value: '' }, t('profile.locale.none')),
    ...LOCALES.map((code) => h('option', { value: code, selected: profile.locale === code }, t(`language.${code}`))),
  );
  const form = h(
    'form',
    { 'aria-labelledby': 'profile-form-heading', novalidate: true },
    h('h2', { id: 'profile-form-heading' }, t('profile.form')),
    field('p-username', t('field.username'), h('input', { id: 'p-username', value: profile.username, readonly: true }), t('profile.username.hint')),
    ...TEXT_FIELDS.map((name) => field(`p-${name}`, t(`field.${name}`), input(name, profile[name], 'text', autocompletes[name]))),
    field('p-email', t('field.email'), input('email', profile.email, 'email', 'email'), profile.email === null ? undefined : profile.email_verified ? t('profile.email.verified') : t('profile.email.unverified')),
    pendingEmail(section, profile.pending_email),
    field('p-locale', t('field.locale'), localeSelect),
    field('p-zoneinfo', t('field.zoneinfo'), input('zoneinfo', profile.zoneinfo), t('profile.zoneinfo.hint')),
    h('button', { type: 'submit' }, t('profile.save')),
    status,
  ) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const value = (name: string) => {
      const text = String(data.get(name) ?? '').trim();
      return text === '' ? null : text;
    };
    const patch: Record<string, string | null> = {};
    for (const name of [...TEXT_FIELDS, 'locale', 'zoneinfo'] as const) {
      if (value(name) !== (profile[name] ?? null)) patch[name] = value(name);
    }
    if (value('email') !== profile.email) patch.email = value('email');
    section.api.patch<Profile>('/profile', patch).then(
      (saved) =>
        patch.locale !== undefined
          ? section.restart()
          : profilePage(
              section,
              notice(patch.email === undefined ? t('profile.saved') : saved.pending_email !== null && saved.email === profile.email ? t('profile.saved.email_pending', { email: saved.pending_email }) : t('profile.saved.email')),
            ),
      (error: unknown) => status.replaceChildren(problem(section, error)),
    );
  });
  render(section.root, h('h1', {}, t('profile.heading')), shown, h('section', { class: 'card' }, form));
}

/**
 * The new address the user asked for, until they follow the link mailed to it: their account
 * keeps its current address meanwhile. The link can be sent again, or the change cancelled.
 */
function pendingEmail(section: Section, email: string | null): HTMLElement | null {
  if (email === null) return null;
  const status = h('div', { role: 'status' });
  const act = (call: Promise<unknown>, done: string) =>
    void call.then(
      () => profilePage(section, notice(done)),
      (error: unknown) => status.replaceChildren(problem(section, error)),
    );
  return h(
    'div',
    { class: 'notice', 'data-testid': 'pending-email' },
    h('p', {}, t('profile.email.pending', { email })),
    h(
      'p',
      {},
      h('button', { type: 'button', class: 'secondary', onclick: () => act(section.api.post('/profile/pending-email'), t('profile.email.pending.resent', { email })) }, t('profile.email.pending.resend')),
      ' ',
      h('button', { type: 'button', class: 'secondary', onclick: () => act(section.api.delete('/profile/pending-email'), t('profile.email.pending.cancelled')) }, t('profile.email.pending.cancel')),
    ),
    status,
  );
}
