/// <reference lib="dom" />
import type { InvitationResponse as Invitation, UserResponse as User, UserPageResponse, FactorsResponse as Factors, UpstreamLinkResponse as UpstreamLink, SessionResponse as Session, GrantResponse as Grant, ConsentResponse as Consent } from '../../admin/responses.ts';
import { ApiError, type AdminApi } from './api.ts';
import { appLabel, appName, appNames } from './app-names.ts';
import { attributesForm } from './user-attributes.ts';
import { invitationSection } from './user-invitation.ts';
import { requiredActionsForm } from './user-required-actions.ts';
import { card, checkField, confirmed, deleteCard, facts, h, hashQuery, isolate, notice, pager, render, showError, t, table, textField, when, nameList } from './ui.ts';

const PAGE = 25;
const details = (error: unknown) => (error instanceof ApiError ? error.details : []);
/** The notice the users list shows once, after a user's deletion sent the console back to it. */
let listNotice: string | undefined;
const status = (user: User) => h('span', { class: user.disabled ? 'badge off' : 'badge on' }, user.disabled ? t('users.disabled') : t('users.active'));

export async function userListPage(root: HTMLElement, api: AdminApi): Promise<void> {
  const query = hashQuery();
  const q = query.get('q') ?? '';
  const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0);
  const search = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  if (q !== '') search.set('q', q);
  for (const filter of ['role', 'group'] as const) {
    const value = query.get(filter);
    if (value !== null && value !== '') search.set(filter, value);
  }
  const filtered = query.get('role') ?? query.get('group');
  const shownNotice = listNotice;
  listNotice = undefined;
  const page = await api.get<UserPageResponse>(`/users?${search.toString()}`);

  const searchForm = h('form', { role: 'search' }, h('label', { for: 'user-search' }, t('users.search')), h('div', { class: 'inline' }, h('input', { id: 'user-search', name: 'q', type: 'search', value: q }), h('button', { type: 'submit' }, t('search.button')))) as HTMLFormElement;
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = String(new FormData(searchForm).get('q') ?? '').trim();
    location.hash = value === '' ? '#/users' : `#/users?q=${encodeURIComponent(value)}`;
  });

  const list =
    page.users.length === 0
      ? h('p', {}, q === '' ? t('users.empty') : t('users.noMatch', { q }))
      : table(
          t('users.heading'),
          [t('users.col.username'), t('users.col.email'), [t('users.col.roles'), 'optional'], t('users.col.status'), [t('users.col.lastLogin'), 'optional']],
          page.users.map((user) => [h('a', { href: `#/users/${encodeURIComponent(user.id)}` }, user.username), user.email === null ? '—' : h('span', { class: 'email', title: user.email }, user.email), user.roles.map(isolate).join(', '), status(user), when(user.last_login_at)]),
          { labelledBy: 'page-heading' },
        );

  const formStatus = h('div', { role: 'status' });
  const form = h(
    'form',
    { 'aria-labelledby': 'new-user-heading' },
    h('h2', { id: 'new-user-heading' }, t('users.new.heading')),
    textField('username', t('user.field.username'), '', { required: true }),
    textField('email', t('user.field.email'), '', { type: 'email' }),
    textField('password', t('user.field.password'), '', { type: 'password', autocomplete: 'new-password', hint: t('users.new.passwordHint') }),
    textField('roles', t('user.field.roles'), '', { hint: t('user.field.listHint') }),
    textField('groups', t('user.field.groups'), '', { hint: t('user.field.listHint') }),
    h('button', { type: 'submit' }, t('users.new.create')),
    formStatus,
  ) as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const email = String(data.get('email') ?? '').trim();
    const password = String(data.get('password') ?? '');
    const body = {
      username: String(data.get('username') ?? '').trim(),
      ...(email === '' ? {} : { email }),
      ...(password === '' ? {} : { password }),
      roles: nameList(data.get('roles')),
      groups: nameList(data.get('groups')),
    };
    api.post<User>('/users', body).then(
      (user) => {
        location.hash = `#/users/${encodeURIComponent(user.id)}`;
      },
      (error: unknown) => showError(form, formStatus, error, details(error)),
    );
  });

  render(
    root,
    h('h1', { id: 'page-heading' }, t('users.heading')),
    shownNotice === undefined ? null : notice(shownNotice),
    filtered === null || filtered === '' ? null : h('p', {}, t(query.get('role') !== null ? 'users.withRole' : 'users.inGroup', { name: filtered }), ' ', h('a', { href: '#/users' }, t('users.allUsers'))),
    h('section', { class: 'card' }, searchForm, list, pager('#/users', query, offset, PAGE, page.total)),
    h('section', { class: 'card' }, form),
  );
}

/** The Keycloak realm an import created the user from (its re-imports update them): a fact of its own, none for a user made here. */
function importedFromFact(user: User): Array<readonly [string, string]> {
  return user.imported_from === null ? [] : [[t('user.importedFrom'), t('user.importedFromKeycloak', { realm: user.imported_from.realm })]];
}

export async function userPage(root: HTMLElement, api: AdminApi, id: string, message?: string): Promise<void> {
  const path = `/users/${encodeURIComponent(id)}`;
  const [user, factors, sessions, grants, consents, links, invitation] = await Promise.all([
    api.get<User>(path),
    api.get<Factors>(`${path}/mfa`),
    api.get<Session[]>(`${path}/sessions`),
    api.get<Grant[]>(`${path}/grants`),
    api.get<Consent[]>(`${path}/consents`),
    api.get<UpstreamLink[]>(`${path}/upstream-links`),
    api.get<Invitation>(`${path}/invitation`),
  ]);
  const names = await appNames(api, [
    ...sessions.flatMap((session) => session.clients),
    ...grants.flatMap((grant) => [grant.client_id, grant.exchanged_from?.client_id].filter((id): id is string => typeof id === 'string')),
    ...consents.map((consent) => consent.client_id),
    ...(invitation.pending && invitation.client_id !== null ? [invitation.client_id] : []),
  ]);
  const nameOf = (id: string) => appName(id, names) ?? id;
  const again = (text: string) => void userPage(root, api, id, text);
  /** Runs an operation; on success the page reloads with `done` as its notice, on failure `box` shows why. */
  const act = (box: HTMLElement, operation: () => Promise<unknown>, done: string) => {
    operation().then(
      () => again(done),
      (error: unknown) => showError(null, box, error, details(error)),
    );
  };

  const profileStatus = h('div', { role: 'status' });
  const profile = h(
    'form',
    { 'aria-labelledby': 'profile-heading' },
    h('h2', { id: 'profile-heading' }, t('user.profile.heading')),
    textField('email', t('user.field.email'), user.email, { type: 'email' }),
    checkField('email_verified', t('user.field.email_verified'), user.email_verified),
    textField('given_name', t('user.field.given_name'), user.given_name),
    textField('family_name', t('user.field.family_name'), user.family_name),
    textField('name', t('user.field.name'), user.name),
    textField('roles', t('user.field.roles'), user.roles.join(', '), { hint: t('user.field.listHint') }),
    textField('groups', t('user.field.groups'), user.groups.join(', '), { hint: t('user.field.listHint') }),
    h('button', { type: 'submit' }, t('user.save')),
    profileStatus,
  ) as HTMLFormElement;
  profile.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(profile);
    const text = (name: string) => {
      const value = String(data.get(name) ?? '').trim();
      return value === '' ? null : value;
    };
    const body = {
      email: text('email'),
      email_verified: data.get('email_verified') !== null,
      given_name: text('given_name'),
      family_name: text('family_name'),
      name: text('name'),
      roles: nameList(data.get('roles')),
      groups: nameList(data.get('groups')),
    };
    api.patch<User>(path, body).then(
      () => again(t('user.saved')),
      (error: unknown) => showError(profile, profileStatus, error, details(error)),
    );
  });

  const accessStatus = h('div', { role: 'status' });
  const access = card(
    'access-heading',
    t('user.access.heading'),
    h('p', {}, user.disabled ? t('user.access.disabledText') : t('user.access.activeText')),
    // One row, as a card's other actions; a disable's confirmation opens under its own button.
    h(
      'div',
      { class: 'actions-row' },
      user.disabled
        ? h('button', { type: 'button', onclick: () => act(accessStatus, () => api.post(`${path}/enable`), t('user.enabled')) }, t('user.enable'))
        : confirmed(t('user.disable'), t('user.disable.confirm', { user: user.username }), () => act(accessStatus, () => api.post(`${path}/disable`), t('user.disabled'))),
      h('button', { type: 'button', class: 'secondary', onclick: () => act(accessStatus, () => api.post(`${path}/unlock`), t('user.unlocked')) }, t('user.unlock')),
    ),
    h('p', { class: 'hint' }, t('user.unlock.hint')),
    accessStatus,
  );

  const passwordStatus = h('div', { role: 'status' });
  const password = h(
    'form',
    { 'aria-labelledby': 'password-heading' },
    h('h2', { id: 'password-heading' }, t('user.password.heading')),
    textField('password', t('user.field.newPassword'), '', { type: 'password', autocomplete: 'new-password', required: true }),
    // Keycloak's "Temporary": the user must choose another at their next sign-in (required action update_password).
    checkField('temporary', t('user.password.temporary'), false, t('user.password.temporaryHint')),
    h('button', { type: 'submit' }, t('user.password.set')),
    passwordStatus,
  ) as HTMLFormElement;
  // Or let the user choose it: an emailed link (POST /users/{id}/invitation; 409s say why not), and the one pending.
  const invite = invitationSection(api, path, user, invitation, nameOf, act);
  password.addEventListener('submit', (event) => {
    event.preventDefault();
    const form = new FormData(password);
    const value = String(form.get('password') ?? '');
    api.put(`${path}/password`, { password: value, temporary: form.get('temporary') !== null }).then(
      () => again(t('user.password.done')),
      (error: unknown) => showError(password, passwordStatus, error, details(error)),
    );
  });

  const mfaStatus = h('div', { role: 'status' });
  const mfa = card(
    'mfa-heading',
    t('user.mfa.heading'),
    facts([
      [t('user.mfa.enrolled'), factors.enrolled ? t('yes') : t('no')],
      [t('user.mfa.totp'), factors.totp === null ? t('no') : t('user.mfa.since', { when: when(factors.totp.enrolled_at) })],
      [t('user.mfa.passkeys'), factors.passkeys.length === 0 ? t('none') : factors.passkeys.map((passkey) => passkey.name).join(', ')],
      [t('user.mfa.recoveryLeft'), String(factors.recovery_codes_left)],
    ]),
    factors.enrolled ? confirmed(t('user.mfa.reset'), t('user.mfa.reset.confirm', { user: user.username }), () => act(mfaStatus, () => api.delete(`${path}/mfa`), t('user.mfa.resetDone'))) : null,
    mfaStatus,
  );

  const sessionStatus = h('div', { role: 'status' });
  const sessionCard = card(
    'sessions-heading',
    t('user.sessions.heading'),
    sessions.length === 0
      ? h('p', {}, t('user.sessions.none'))
      : table(
          // "Sessions" over the first of the card's two tables (its heading names both), "Grants" over the second.
          t('user.sessions.caption'),
          [t('user.sessions.signedIn'), t('user.sessions.expires'), t('user.sessions.clients'), [t('actions'), 'actions']],
          sessions.map((session) => [
            when(session.login_at),
            when(session.expires_at),
            session.clients.length === 0 ? '—' : h('ul', { class: 'apps' }, ...session.clients.map((id) => h('li', {}, appLabel(id, names)))),
            h('button', { type: 'button', class: 'secondary', onclick: () => act(sessionStatus, () => api.delete(`${path}/sessions/${encodeURIComponent(session.id)}`), t('user.sessions.ended')) }, t('user.sessions.end')),
          ]),
        ),
    grants.length === 0
      ? h('p', {}, t('user.grants.none'))
      : table(
          t('user.grants.heading'),
          [t('user.grants.client'), t('user.grants.scope'), t('user.grants.issued'), [t('actions'), 'actions']],
          grants.map((grant) => [
            // A token exchange's grant (RFC 8693) beside the client's own: said apart, with the app it came through.
            grant.exchanged_from === null
              ? appLabel(grant.client_id, names)
              : h('span', {}, appLabel(grant.client_id, names), h('span', { class: 'through' }, t('user.grants.exchanged', { client: grant.exchanged_from.client_id === null ? '—' : nameOf(grant.exchanged_from.client_id) }))),
            [grant.scope, ...grant.resources].filter(Boolean).join(' '),
            when(grant.issued_at),
            h('button', { type: 'button', class: 'secondary', onclick: () => act(sessionStatus, () => api.delete(`${path}/grants/${encodeURIComponent(grant.id)}`), t('user.grants.revoked')) }, t('user.grants.revoke')),
          ]),
        ),
    sessions.length + grants.length === 0 ? null : confirmed(t('user.revokeAll'), t('user.revokeAll.confirm', { user: user.username }), () => act(sessionStatus, () => api.delete(`${path}/grants`), t('user.revokeAll.done'))),
    sessionStatus,
  );

  // What the user allowed each app, kept across sign-in sessions: revoking it makes the app ask again (and ends its grants).
  const consentStatus = h('div', { role: 'status' });
  const consentCard = card(
    'consents-heading',
    t('user.consents.heading'),
    h('p', { class: 'hint' }, t('user.consents.hint')),
    consents.length === 0
      ? h('p', {}, t('user.consents.none'))
      : table(
          t('user.consents.heading'),
          [t('user.grants.client'), t('user.grants.scope'), t('user.consents.since'), [t('actions'), 'actions']],
          consents.map((consent) => [
            appLabel(consent.client_id, names),
            [...consent.scopes, ...consent.claims, ...Object.entries(consent.resources).map(([api, scopes]) => `${api} (${scopes.join(' ')})`)].join(' '),
            when(consent.created_at),
            confirmed(t('user.consents.revoke'), t('user.consents.revoke.confirm', { client: nameOf(consent.client_id) }), () =>
              act(consentStatus, () => api.delete(`${path}/consents/${encodeURIComponent(consent.client_id)}`), t('user.consents.revoked')),
            ),
          ]),
          { labelledBy: 'consents-heading' },
        ),
    consentStatus,
  );

  const linkStatus = h('div', { role: 'status' });
  const linkCard = card(
    'links-heading',
    t('user.links.heading'),
    links.length === 0
      ? h('p', {}, t('user.links.none'))
      : table(
          t('user.links.heading'),
          [t('user.links.provider'), t('user.links.subject'), t('user.links.lastSignIn'), [t('actions'), 'actions']],
          links.map((link) => [
            h('a', { href: `#/upstream/${encodeURIComponent(link.provider)}` }, link.provider),
            h('span', {}, link.label ?? null, link.label ? h('br') : null, h('code', {}, link.subject)),
            when(link.last_sign_in_at),
            confirmed(t('user.links.remove'), t('user.links.remove.confirm', { provider: link.provider }), () =>
              act(linkStatus, () => api.delete(`${path}/upstream-links/${encodeURIComponent(link.provider)}/${encodeURIComponent(link.subject)}`), t('user.links.removed')),
            ),
          ]),
          { labelledBy: 'links-heading' },
        ),
    linkStatus,
  );

  render(
    root,
    h('p', {}, h('a', { href: '#/users' }, t('user.back'))),
    h('h1', {}, t('user.heading', { user: user.username })),
    message === undefined ? null : notice(message),
    h('section', { class: 'card' }, facts([[t('user.id'), h('code', {}, user.id)], [t('users.col.status'), status(user)], [t('user.created'), when(user.created_at)], [t('users.col.lastLogin'), when(user.last_login_at)], ...importedFromFact(user)])),
    access,
    h('section', { class: 'card' }, profile),
    attributesForm(api, path, user, again),
    requiredActionsForm(api, path, user, again),
    h('section', { class: 'card' }, password, invite),
    mfa,
    linkCard,
    sessionCard,
    consentCard,
    // Last, as on the other pages: deleting the user for good (DELETE /users/{id}), then the users list with a notice.
    deleteCard({
      id: 'delete-user',
      heading: t('user.delete.heading'),
      text: t('user.delete.text', { user: user.username }),
      button: t('user.delete.button'),
      confirm: t('user.delete.confirm', { user: user.username }),
      remove: async () => {
        await api.delete(path);
        listNotice = t('user.deleted', { user: user.username });
      },
      back: '#/users',
      details,
    }),
  );
}
