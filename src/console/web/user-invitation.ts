/// <reference lib="dom" />
import type { InvitationResponse as Invitation, UserResponse as User } from '../../admin/responses.ts';
import type { AdminApi } from './api.ts';
import { confirmed, facts, h, isolate, t, when } from './ui.ts';

/**
 * The user page's invitation (under the password form): the one that still works — when it was
 * sent, until when it works, the application it leads back to — with Resend and Revoke; else
 * Send invitation. `act` runs an operation and reloads the page with its notice, or shows why not
 * in `status` (the 409s of POST /users/{id}/invitation say why no mail can go).
 */
export function invitationSection(
  api: AdminApi,
  path: string,
  user: User,
  invitation: Invitation,
  appName: (clientId: string) => string,
  act: (status: HTMLElement, operation: () => Promise<unknown>, done: string) => void,
): HTMLElement {
  const status = h('div', { role: 'status' });
  // A resent invitation leads back to the same application as the one it replaces.
  const body = invitation.pending && invitation.client_id !== null ? { client_id: invitation.client_id, redirect_uri: invitation.redirect_uri } : {};
  const send = (label: string) =>
    h('button', { type: 'button', class: 'secondary', onclick: () => act(status, () => api.post(`${path}/invitation`, body), t('user.invitation.sent', { email: user.email ?? '' })) }, label);
  if (!invitation.pending) {
    return h('div', {}, h('div', { class: 'actions-row' }, send(t('user.invitation.send'))), h('p', { class: 'hint' }, t('user.invitation.hint')), status);
  }
  return h(
    'div',
    { class: 'invitation', 'aria-labelledby': 'invitation-heading', role: 'group' },
    h('h3', { id: 'invitation-heading' }, t('user.invitation.pending')),
    facts([
      // An invitation sent before send times were kept has none: said so, not left blank.
      [t('user.invitation.sentAt'), invitation.sent_at === null ? t('user.invitation.sentAt.unknown') : when(invitation.sent_at)],
      [t('user.invitation.expiresAt'), when(invitation.expires_at)],
      // The application's name is the operator's text: isolated, so a right-to-left name cannot reorder the line.
      ...(invitation.client_id === null ? [] : [[t('user.invitation.app'), isolate(appName(invitation.client_id))] as const]),
    ]),
    h(
      'div',
      { class: 'actions-row' },
      send(t('user.invitation.resend')),
      confirmed(t('user.invitation.revoke'), t('user.invitation.revoke.confirm', { user: user.username }), () => act(status, () => api.delete(`${path}/invitation`), t('user.invitation.revoked'))),
    ),
    h('p', { class: 'hint' }, t('user.invitation.resendHint')),
    status,
  );
}
