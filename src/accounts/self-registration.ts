import { randomInt } from 'node:crypto';
import type { Accounts, User } from './accounts.ts';
import type { EmailVerifications, PendingAccount, VerificationTicket } from './email-verifications.ts';
import { DuplicateUserError } from './errors.ts';
import type { PasswordHasher } from './hash-pool.ts';
import { personalUsername } from './normalize.ts';
import { shortened } from './shortened.ts';

/** The mails registration sends besides the verification link (src/mail/mail-service.ts provides them). */
export interface RegistrationMailer<L extends string> {
  send(kind: 'email_verification' | 'registration_exists', to: string, locale: L, model: Readonly<Record<string, unknown>>): Promise<void>;
}

export type RegistrationEvent =
  /** An account was created by its owner (at once, or when the emailed link was followed). */
  | { readonly type: 'user.registered'; readonly userId: string }
  /** Someone registered with the address of an existing account: its owner was told, nothing changed. */
  | { readonly type: 'user.registration_existing_email'; readonly userId: string }
  | { readonly type: 'user.email_verification_sent'; readonly userId: string | null };

export interface SelfRegistrationDeps<L extends string> {
  readonly accounts: Pick<Accounts, 'findByLogin' | 'createUser'>;
  readonly hasher: Pick<PasswordHasher, 'hash'>;
  readonly verifications: EmailVerifications;
  readonly mail: RegistrationMailer<L>;
  /** Absolute URLs for the emails: the verification link's base and "Forgot password?" (none while reset is off). */
  readonly links: { readonly verify: string; readonly forgotPassword: () => Promise<string | undefined> };
  /** How long links work (a runtime setting): the email says it. */
  readonly ttlSeconds: () => Promise<number>;
  /** The account exists only once the address is confirmed (GATEHOUSE_REQUIRE_VERIFIED_EMAIL ≠ off). */
  readonly verifyFirst: () => Promise<boolean>;
  readonly onEvent?: (event: RegistrationEvent) => void;
}

export interface Registration<L extends string> {
  readonly email: string;
  readonly name: string | null;
  readonly password: string;
  readonly locale: L;
  /** The sign-in page to come back to (after confirming the address). */
  readonly returnTo: string | null;
}

export interface SelfRegistration<L extends string> {
  /**
   * Does what a registration leads to, after the person has been answered (the answer and its
   * timing are the same for new and taken addresses): a new address gets a confirmation link
   * (and, without `verifyFirst`, its account at once); a taken one gets a note to its owner.
   */
  register(input: Registration<L>): Promise<void>;
  /** Creates the account a confirmed registration link stands for; undefined if its address was taken meanwhile. */
  complete(email: string, pending: PendingAccount): Promise<User | undefined>;
}

const displayName = (user: { username: string; name: string | null }) => (user.name !== null && user.name !== '' ? user.name : user.username);

/**
 * A username from the address's local part (usernames have no `@`), made unique with a suffix if
 * taken; one naming a client's service account (`service-account-…`) gets `user-` in front.
 */
export function usernameCandidates(email: string): string[] {
  const local = email.slice(0, email.lastIndexOf('@')).normalize('NFKC');
  // Shortened by whole characters: half of a letter outside the BMP would make no valid username.
  const base = personalUsername(shortened(local.replace(/[^\p{L}\p{N}._-]+/gu, '-').replace(/^-+|-+$/g, ''), 40) || 'user');
  return [base, ...Array.from({ length: 5 }, () => `${base}-${randomInt(1000, 10_000)}`)];
}

export function createSelfRegistration<L extends string>(deps: SelfRegistrationDeps<L>): SelfRegistration<L> {
  const report = (event: RegistrationEvent) => {
    try {
      deps.onEvent?.(event);
    } catch {
      // Auditing must not change the answer.
    }
  };

  async function create(input: { email: string; name: string | null; passwordHash: string; emailVerified: boolean }): Promise<User | undefined> {
    for (const username of usernameCandidates(input.email)) {
      try {
        const user = await deps.accounts.createUser({ ...input, username, selfRegistered: true });
        report({ type: 'user.registered', userId: user.id });
        return user;
      } catch (error) {
        if (error instanceof DuplicateUserError && error.field === 'username') continue;
        if (error instanceof DuplicateUserError) return undefined;
        throw error;
      }
    }
    throw new Error('no free username for a self-registered account');
  }

  async function sendLink(ticket: VerificationTicket, name: string, locale: L): Promise<void> {
    const token = await deps.verifications.issue(ticket);
    // The account a link for its address was meant for was deleted meanwhile: no mail; the person sees what everyone sees.
    if (token === undefined) return;
    await deps.mail.send('email_verification', ticket.email, locale, {
      name,
      link: `${deps.links.verify}/${token}`,
      hours: String(Math.max(1, Math.round((await deps.ttlSeconds()) / 3600))),
      byOperator: false,
    });
    report({ type: 'user.email_verification_sent', userId: ticket.kind === 'address' ? ticket.userId : null });
  }

  return {
    async register({ email, name, password, locale, returnTo }) {
      const existing = await deps.accounts.findByLogin(email);
      if (existing !== undefined) {
        report({ type: 'user.registration_existing_email', userId: existing.id });
        await deps.mail.send('registration_exists', existing.email ?? email, locale, { name: displayName(existing), link: (await deps.links.forgotPassword()) ?? null });
        return;
      }
      const passwordHash = await deps.hasher.hash(password);
      if (await deps.verifyFirst()) return sendLink({ kind: 'registration', email, returnTo, pending: { name, passwordHash } }, name ?? email, locale);
      const user = await create({ email, name, passwordHash, emailVerified: false });
      if (user !== undefined) await sendLink({ kind: 'address', userId: user.id, email, returnTo }, name ?? user.username, locale);
    },
    complete: (email, pending) => create({ email, name: pending.name, passwordHash: pending.passwordHash, emailVerified: true }),
  };
}
