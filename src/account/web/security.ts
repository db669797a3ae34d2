/// <reference lib="dom" />
import type { FactorsResponse as Factors, UpstreamLinksResponse as UpstreamLinks } from '../responses.ts';
import { card, field, problem, type Section } from './common.ts';
import { connectOutcome, linksCard } from './links.ts';
import { confirmed, h, notice, render, stackedTable, t, when } from './ui.ts';

interface WebAuthnBrowser {
  browserSupportsWebAuthn(): boolean;
  startRegistration(options: { optionsJSON: unknown }): Promise<unknown>;
}

/** @simplewebauthn/browser's bundle, loaded by the page from Gatehouse's own assets. */
const webauthn = () => (globalThis as unknown as { SimpleWebAuthnBrowser?: WebAuthnBrowser }).SimpleWebAuthnBrowser;

function passwordCard(section: Section, hasPassword: boolean, again: (shown?: HTMLElement) => void): HTMLElement {
  const status = h('div', { role: 'status' });
  const secret = (id: string, name: string, autocomplete: string) => h('input', { id, name, type: 'password', autocomplete, required: true });
  // A user who signs in upstream or with a passkey sets a first password: a recent sign-in stands in for the current one.
  const form = h(
    'form',
    { 'aria-labelledby': 'password-heading' },
    hasPassword ? field('pw-current', t('field.current_password'), secret('pw-current', 'current_password', 'current-password')) : h('p', {}, t('password.add.text')),
    field('pw-new', t('field.new_password'), secret('pw-new', 'new_password', 'new-password'), t('password.hint')),
    field('pw-repeat', t('field.repeat_password'), secret('pw-repeat', 'repeat_password', 'new-password')),
    hasPassword ? h('div', { class: 'check' }, h('input', { id: 'pw-others', name: 'sign_out_others', type: 'checkbox', checked: true }), h('label', { for: 'pw-others' }, t('password.signOutOthers'))) : null,
    h('button', { type: 'submit' }, t(hasPassword ? 'password.submit' : 'password.add.submit')),
    status,
  ) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    if (data.get('new_password') !== data.get('repeat_password')) {
      status.replaceChildren(h('div', { class: 'alert', role: 'alert' }, t('password.mismatch')));
      return;
    }
    if (!hasPassword) {
      section.api.post('/password/new', { new_password: String(data.get('new_password') ?? '') }).then(
        () => again(notice(t('password.added'))),
        (error: unknown) => status.replaceChildren(problem(section, error)),
      );
      return;
    }
    const body = { current_password: String(data.get('current_password') ?? ''), new_password: String(data.get('new_password') ?? ''), sign_out_others: data.get('sign_out_others') !== null };
    section.api.post<{ signed_out_sessions: number }>('/password', body).then(
      (result) => {
        form.reset();
        status.replaceChildren(notice(result.signed_out_sessions > 0 ? t('password.changed.others', { count: result.signed_out_sessions }, result.signed_out_sessions) : t('password.changed')));
      },
      (error: unknown) => status.replaceChildren(problem(section, error)),
    );
  });
  return card('password-heading', t(hasPassword ? 'password.heading' : 'password.add.heading'), form);
}

/** The ten recovery codes, shown once. */
function codesCard(codes: readonly string[], onDone: () => void): HTMLElement {
  return card(
    'codes-heading',
    t('codes.new.heading'),
    h('p', { class: 'notice' }, t('codes.new.text')),
    h('ol', { class: 'codes', 'data-testid': 'recovery-codes' }, ...codes.map((code) => h('li', {}, h('code', {}, code)))),
    h('button', { type: 'button', onclick: onDone }, t('codes.new.done')),
  );
}

function totpCard(section: Section, factors: Factors, again: (shown?: HTMLElement) => void): HTMLElement {
  const status = h('div', { role: 'status' });
  if (factors.totp !== null) {
    return card(
      'totp-heading',
      t('totp.heading'),
      h('p', {}, t('totp.on', { date: when(factors.totp.enrolled_at) })),
      confirmed(t('totp.remove'), t('totp.remove.confirm'), () =>
        void section.api.delete('/mfa/totp').then(() => again(notice(t('totp.removed'))), (error: unknown) => status.replaceChildren(problem(section, error))),
      ),
      status,
    );
  }
  const area = h('div', {});
  const start = h('button', {
    type: 'button',
    onclick: () =>
      void section.api.post<{ secret: string; uri: string; qr_svg: string; digits?: number; period?: number }>('/mfa/totp').then(
        (enrolment) => {
          start.hidden = true;
          const form = h(
            'form',
            { 'aria-labelledby': 'totp-heading' },
            h('p', {}, t('totp.scan')),
            h('img', { class: 'qr', src: `data:image/svg+xml;base64,${btoa(enrolment.qr_svg)}`, alt: t('totp.qr.alt'), width: '200', height: '200' }),
            h('p', {}, t('totp.manual')),
            // In groups of four, as the sign-in's enrolment page shows it (authenticator apps ignore the spaces).
            h('code', { class: 'secret', 'data-testid': 'totp-secret' }, enrolment.secret.replace(/(.{4})(?=.)/gu, '$1 ')),
            // The OTP policy chooses the app's digits and period (src/settings/otp.ts).
            field(
              'totp-code',
              t('field.code'),
              h('input', { id: 'totp-code', name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: String(enrolment.digits ?? 6), pattern: `[0-9]{${enrolment.digits ?? 6}}` }),
              t('totp.code.hint', { digits: String(enrolment.digits ?? 6), period: String(enrolment.period ?? 30) }),
            ),
            h('button', { type: 'submit' }, t('totp.confirm')),
            status,
          ) as HTMLFormElement;
          form.addEventListener('submit', (event) => {
            event.preventDefault();
            section.api.post<{ recovery_codes: string[] }>('/mfa/totp/confirm', { code: String(new FormData(form).get('code') ?? '') }).then(
              (result) => again(codesCard(result.recovery_codes, () => again(notice(t('totp.added'))))),
              (error: unknown) => status.replaceChildren(problem(section, error)),
            );
          });
          area.replaceChildren(form);
          form.querySelector('input')?.focus();
        },
        (error: unknown) => status.replaceChildren(problem(section, error)),
      ),
  }, t('totp.setUp'));
  return card('totp-heading', t('totp.heading'), h('p', {}, t('totp.off')), start, area, status);
}

function codesStatusCard(section: Section, factors: Factors, again: (shown?: HTMLElement) => void): HTMLElement | null {
  if (!factors.enrolled) return null;
  const status = h('div', { role: 'status' });
  return card(
    'recovery-heading',
    t('codes.heading'),
    h('p', {}, t('codes.left', { count: factors.recovery_codes_left }, factors.recovery_codes_left)),
    h('p', { class: 'hint' }, t('codes.text')),
    confirmed(t('codes.regenerate'), t('codes.regenerate.confirm'), () =>
      void section.api.post<{ recovery_codes: string[] }>('/mfa/recovery-codes').then(
        (result) => again(codesCard(result.recovery_codes, () => again())),
        (error: unknown) => status.replaceChildren(problem(section, error)),
      ),
    ),
    status,
  );
}

function passkeysCard(section: Section, factors: Factors, again: (shown?: HTMLElement) => void): HTMLElement {
  const status = h('div', { role: 'status' });
  const rows = factors.passkeys.map((passkey) => {
    const nameCell = h('span', {}, passkey.name);
    const rename = h('button', {
      type: 'button',
      class: 'secondary',
      'aria-label': t('passkeys.rename.label', { name: passkey.name }),
      onclick: () => {
        const input = h('input', { id: `rename-${passkey.id}`, name: 'name', value: passkey.name, maxlength: '64', required: true, 'aria-label': t('field.passkey_name') }) as HTMLInputElement;
        const form = h('form', { class: 'inline' }, input, h('button', { type: 'submit' }, t('passkeys.rename.save'))) as HTMLFormElement;
        form.addEventListener('submit', (event) => {
          event.preventDefault();
          section.api.patch(`/mfa/passkeys/${encodeURIComponent(passkey.id)}`, { name: input.value }).then(() => again(notice(t('passkeys.renamed'))), (error: unknown) => status.replaceChildren(problem(section, error)));
        });
        nameCell.replaceChildren(form);
        input.focus();
      },
    }, t('passkeys.rename'));
    const remove = confirmed(t('passkeys.remove'), t('passkeys.remove.confirm', { name: passkey.name }), () =>
      void section.api.delete(`/mfa/passkeys/${encodeURIComponent(passkey.id)}`).then(() => again(notice(t('passkeys.removed', { name: passkey.name }))), (error: unknown) => status.replaceChildren(problem(section, error))),
      { 'aria-label': t('passkeys.remove.label', { name: passkey.name }) },
    );
    return { attributes: { 'data-passkey': passkey.name }, cells: [nameCell, when(passkey.created_at), when(passkey.last_used_at), h('span', { class: 'buttons' }, rename, remove)] };
  });
  const table =
    rows.length === 0
      ? h('p', {}, t('passkeys.none'))
      : stackedTable(t('passkeys.caption'), [{ label: t('passkeys.col.name') }, { label: t('passkeys.col.added') }, { label: t('passkeys.col.used') }, { label: t('passkeys.col.actions'), kind: 'actions' }], rows);
  const lib = webauthn();
  const add = h(
    'form',
    { 'aria-labelledby': 'passkey-add-heading' },
    h('h3', { id: 'passkey-add-heading' }, t('passkeys.add.heading')),
    field('passkey-name', t('field.passkey_name'), h('input', { id: 'passkey-name', name: 'name', maxlength: '64', placeholder: t('passkeys.add.placeholder') }), t('passkeys.add.hint')),
    h('button', { type: 'submit' }, t('passkeys.add')),
  ) as HTMLFormElement;
  add.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = String(new FormData(add).get('name') ?? '').trim() || t('passkeys.defaultName');
    void (async () => {
      try {
        const { ticket, options } = await section.api.post<{ ticket: string; options: unknown }>('/mfa/passkeys/options');
        let response: unknown;
        try {
          response = await lib!.startRegistration({ optionsJSON: options });
        } catch (error) {
          // The browser refuses an authenticator that already holds one of this account's passkeys
          // (the options exclude them): say so, rather than that nothing happened.
          const exists = (error as { code?: unknown }).code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED' || (error as { name?: unknown }).name === 'InvalidStateError';
          status.replaceChildren(h('div', { class: 'alert', role: 'alert' }, t(exists ? 'passkeys.add.exists' : 'passkeys.add.cancelled')));
          return;
        }
        await section.api.post('/mfa/passkeys', { ticket, response: JSON.stringify(response), name });
        again(notice(t('passkeys.added', { name })));
      } catch (error) {
        status.replaceChildren(problem(section, error));
      }
    })();
  });
  return card(
    'passkeys-heading',
    t('passkeys.heading'),
    h('p', { class: 'hint' }, t('passkeys.text')),
    table,
    !factors.passkeys_available ? h('p', { class: 'hint' }, t('passkeys.unavailable')) : lib !== undefined && lib.browserSupportsWebAuthn() ? add : h('p', { class: 'hint' }, t('passkeys.unsupported')),
    status,
  );
}

/** Password and second factors: the changes to how the user signs in. */
export async function securityPage(section: Section, shown?: HTMLElement): Promise<void> {
  const [factors, links, profile] = await Promise.all([
    section.api.get<Factors>('/mfa'),
    section.api.get<UpstreamLinks>('/upstream-links'),
    section.api.get<{ has_password?: boolean }>('/profile'),
  ]);
  const again = (next?: HTMLElement) => void securityPage(section, next).catch((error: unknown) => section.root.prepend(problem(section, error)));
  render(
    section.root,
    h('h1', {}, t('security.heading')),
    shown ?? connectOutcome(links),
    // Whether a second factor guards the account: a notice about the whole page, under its heading
    // — as a strip on the passkeys card it read as that card's header, though an authenticator app
    // does as well. Where passkeys cannot be added (an issuer on an IP address) it names the app only.
    h('p', { class: `factor-status ${factors.enrolled ? 'on' : 'off'}` }, factors.enrolled ? t('security.mfa.on') : t(factors.passkeys_available ? 'security.mfa.off' : 'security.mfa.off_no_passkeys')),
    passwordCard(section, profile.has_password !== false, again),
    linksCard(section, links, again),
    passkeysCard(section, factors, again),
    totpCard(section, factors, again),
    codesStatusCard(section, factors, again),
  );
}
