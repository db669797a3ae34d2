/**
 * Every audit event type Gatehouse records, with what it means. The README's table lists the
 * same types (a test keeps the two in step), and the audit query refuses any other type.
 */
export const AUDIT_EVENT_TYPES = {
  // Sign-in and protocol (recorded by the server; actor is the user or the client)
  'signin.success': 'a user signed in (actor: the user; client: the application they signed in to)',
  'signin.failure': 'a sign-in failed; details.reason is unknown_user, wrong_password, no_password, locked, disabled or second_factor_required (password grant)',
  'signin.lockout': 'failed sign-ins locked a user or an address; details.lockedForSeconds',
  'consent.granted': 'a user allowed an application scopes or APIs (target: the client)',
  'token.issued': 'the token endpoint issued tokens; details.grantType',
  'token.refreshed': 'a refresh token was exchanged (rotated)',
  'token.exchanged': 'token exchange (RFC 8693): details.grantId is the new grant, details.subjectGrantId the subject token\'s, details.api the target',
  'token.revoked': 'an access or refresh token was revoked or consumed; details.kind',
  'grant.revoked': 'a grant and its tokens were revoked (by a client, a reuse detection, an operator, or the user on the account page)',
  signout: 'a user signed out (RP-initiated logout)',
  'user.password_reset_requested': 'a password-reset link was emailed to a user (actor: anonymous; target: the user)',
  'user.registered': 'a person created their own account (self-registration; actor: the new user)',
  'user.registration_existing_email': 'someone registered with the email of an existing account: its owner was emailed, nothing changed (target: that user)',
  'user.email_verification_sent': 'a link to confirm an email address was sent (target: the user; none yet for a registration waiting for its link)',
  'user.email_verified': 'a user confirmed their email address with the emailed link',
  'user.password_reset': 'a user set a new password with a reset link (after their second factor, if they have one); their sessions, grants and tokens were revoked and their lockouts lifted',
  'mfa.enrolled': 'a user enrolled a second factor; details.method totp or passkey',
  'mfa.verified': 'a user passed the second factor (or signed in with a passkey); details.method',
  'mfa.recovery_code_used': 'a user signed in with a recovery code; details.recoveryCodesLeft',
  'mfa.failure': 'a second factor was refused; details.reason wrong_code, replayed, locked or passkey_refused',
  'mfa.recovery_codes_created': 'a user got 10 new recovery codes (the old ones stop working)',
  'upstream.signin': 'a user signed in through an upstream identity provider; details.provider',
  'upstream.account_created': 'a first upstream sign-in created a local account (just in time); details.provider',
  'upstream.linked': 'an upstream identity was linked to a user; details.provider, details.by local_sign_in or verified_email',
  'upstream.refused': 'an upstream sign-in was refused; details.reason domain, email_unverified, disabled, no_account, denied, failed, unreachable, state or not_allowed',
  // The account page (actor and target: the user)
  'user.password_changed': 'a user changed their own password on the account page (the current one was checked)',
  'mfa.removed': 'a user removed a second factor on the account page; details.method totp (with the recovery codes) or passkey',
  'mfa.passkey_renamed': 'a user renamed one of their passkeys; details.passkey',
  // Operator actions (admin API and CLI alike; actor is the admin user, admin client or CLI user)
  'client.created': 'a client was created',
  'client.updated': 'a client was changed; details.fields',
  'client.deleted': 'a client was deleted and its grants and tokens revoked',
  'client.secret_rotated': 'a client got a new secret',
  'client.tokens_revoked': "all of a client's grants and tokens were revoked",
  'api.created': 'an API (resource server) was registered',
  'api.updated': 'an API was changed; details.fields',
  'api.deleted': 'an API was deleted',
  'user.created': 'a user was created',
  'user.updated': "a user's profile, roles or groups changed; details.fields",
  'user.password_set': "an operator set a user's password",
  'user.disabled': 'a user was disabled and their sessions, grants and tokens revoked',
  'user.enabled': 'a user was enabled',
  'user.unlocked': "a user's sign-in lockouts were lifted",
  'lockout.cleared': 'an operator lifted a sign-in lockout from the lockouts list; details.subject (user id or login:<login>) or details.ip',
  'user.mfa_reset': "an operator removed a user's authenticator app, passkeys and recovery codes",
  'user.passkey_removed': "an operator removed one of a user's passkeys; details.passkey",
  'user.tokens_revoked': "all of a user's sessions, grants and tokens were revoked",
  'session.revoked': 'a sign-in session was ended, by an operator or by the user on the account page',
  'role.created': 'a role was created',
  'role.deleted': 'a role was deleted (and taken off every user)',
  'role.assigned': 'a role was given to a user (target: the user)',
  'role.removed': 'a role was taken from a user (target: the user)',
  'group.created': 'a group was created',
  'group.deleted': 'a group was deleted (and taken off every user)',
  'group.assigned': 'a user was added to a group (target: the user)',
  'group.removed': 'a user was removed from a group (target: the user)',
  'keys.rotated': 'new signing and cookie keys were added (by an operator, or by the rotation interval with actor system)',
  'registration.initial_access_token_created': 'an initial access token for dynamic client registration was created',
  'export.created': 'clients, APIs, roles, groups and users were exported to a file',
  'import.applied': 'an export file was imported',
  'upstream_provider.created': 'an upstream identity provider was added',
  'upstream_provider.updated': 'an upstream identity provider was changed; details.fields (a new secret shows as client_secret, never its value)',
  'upstream_provider.deleted': 'an upstream identity provider was deleted with every link to it',
  'user.upstream_unlinked': "an operator removed one of a user's upstream links; details.provider",
  'keycloak.imported': 'a Keycloak realm export was imported (counts only: no user names, no hashes)',
} as const;

export type AuditEventType = keyof typeof AUDIT_EVENT_TYPES;

export function isAuditEventType(type: string): type is AuditEventType {
  return Object.hasOwn(AUDIT_EVENT_TYPES, type);
}
