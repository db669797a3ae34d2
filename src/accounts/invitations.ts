import type { Connection } from 'mongoose';
import { INVITATIONS_COLLECTION, openPasswordResets, userLinks, type PasswordResets, type PasswordResetsDeps, type ReturnTo, type UserLinks } from './password-resets.ts';

/**
 * Invitations (Keycloak's execute-actions-email with UPDATE_PASSWORD, Auth0's user invitations):
 * an operator has Gatehouse mail a user a link to set their password. An invitation is a
 * password link like a reset link — 256 random bits, only the hash stored, one live link per
 * user (a new invitation ends the previous one), single use, bound to the address it was mailed
 * to and to the password the user had then — kept in its own collection with its own lifetime,
 * so a "Forgot password?" request and an invitation never end each other.
 */
export type Invitations = PasswordResets;

export async function openInvitations(deps: Omit<PasswordResetsDeps, 'collection'>): Promise<Invitations> {
  return openPasswordResets({ ...deps, collection: INVITATIONS_COLLECTION });
}

/** A user's pending invitation as operators see it, and its revocation (whether or not mail can go out now). */
export function pendingInvitations(db: Connection, holder: PasswordResetsDeps['holder'], now?: () => number): UserLinks {
  return userLinks(db, INVITATIONS_COLLECTION, holder, now);
}

/** The user an invitation is for (src/accounts/accounts.ts). */
export interface InvitedUser {
  readonly id: string;
  readonly username: string;
  readonly name: string | null;
  readonly email: string | null;
  readonly disabled: boolean;
  readonly attributes: { readonly locale?: string | undefined };
}

export interface InvitationOptions {
  /** The link's lifetime instead of the configured one (`invitation_ttl`). */
  readonly ttlSeconds?: number | undefined;
  /** The application the person continues to once their password is set (checked by the caller). */
  readonly returnTo?: ReturnTo | undefined;
}

export type InvitationOutcome =
  | { readonly kind: 'sent'; readonly expiresInSeconds: number }
  | { readonly kind: 'no_email' }
  | { readonly kind: 'disabled' }
  | { readonly kind: 'unknown_user' };

/** Sends invitations (the admin API, the console and the CLI alike). */
export interface InvitationSender {
  send(userId: string, options?: InvitationOptions): Promise<InvitationOutcome>;
}

/** The invitation mail's model (views/mail/invitation.*.ejs). */
export interface InvitationMail {
  readonly name: string;
  /** What they sign in with (besides the address the mail went to). */
  readonly username: string;
  readonly link: string;
  /** The lifetime in whole hours, or null when it is not a whole number of hours (then `minutes`). */
  readonly hours: string | null;
  readonly minutes: string;
}

export interface InvitationSenderDeps<L extends string> {
  readonly accounts: { findById(id: string): Promise<InvitedUser | undefined> };
  readonly invitations: Invitations;
  /** `<public URL><password path>/invitation`: the link is `<linkBase>/<token>`. */
  readonly linkBase: string;
  /** The configured lifetime of an invitation (runtime setting `invitation_ttl`). */
  readonly ttlSeconds: () => Promise<number>;
  readonly localeOf: (user: InvitedUser) => L;
  readonly mail: { send(kind: 'invitation', to: string, locale: L, model: Readonly<Record<string, unknown>>): Promise<void> };
}

const displayName = (user: { username: string; name: string | null }) => (user.name !== null && user.name !== '' ? user.name : user.username);

/** How long a link works, as the mail says it: whole hours when it is some, else minutes. */
export function lifetimeWords(seconds: number): Pick<InvitationMail, 'hours' | 'minutes'> {
  return { hours: seconds % 3600 === 0 ? String(seconds / 3600) : null, minutes: String(Math.max(1, Math.round(seconds / 60))) };
}

export function invitationSender<L extends string>(deps: InvitationSenderDeps<L>): InvitationSender {
  return {
    async send(userId, options = {}) {
      const user = await deps.accounts.findById(userId);
      if (user === undefined) return { kind: 'unknown_user' };
      if (user.disabled) return { kind: 'disabled' };
      if (user.email === null) return { kind: 'no_email' };
      const ttlSeconds = options.ttlSeconds ?? (await deps.ttlSeconds());
      const token = await deps.invitations.issue(userId, { ttlSeconds, returnTo: options.returnTo });
      // Deleted since it was read: no mail, and the answer a user who never existed gets.
      if (token === undefined) return { kind: 'unknown_user' };
      const model: InvitationMail = { name: displayName(user), username: user.username, link: `${deps.linkBase}/${token}`, ...lifetimeWords(ttlSeconds) };
      await deps.mail.send('invitation', user.email, deps.localeOf(user), { ...model });
      return { kind: 'sent', expiresInSeconds: ttlSeconds };
    },
  };
}
