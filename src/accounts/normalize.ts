import { InvalidUserError } from './errors.ts';

/**
 * Usernames: letters, digits, `.`, `_`, `-`; never `@`, so a login string is an email
 * exactly when it contains one and the two namespaces cannot collide.
 */
const USERNAME = /^[\p{L}\p{N}._-]{1,64}$/u;
/**
 * Deliberately loose: one `@`, something on each side, a dot in the domain but no empty label
 * (`example.com.` is example.com's mailbox under a second key), no spaces, control characters or
 * invisible format characters (a bidi override, a zero-width space: the address shows as
 * another, or reaches the one without them).
 */
const EMAIL = /^[^\s@\p{Cc}\p{Cf}]+@(?:[^\s@.\p{Cc}\p{Cf}]+\.)+[^\s@.\p{Cc}\p{Cf}]+$/u;
/**
 * Control characters and invisible format characters (a right-to-left override, a zero-width
 * space, a byte-order mark): what EMAIL refuses and what a name a person picks may not hold
 * (hasHiddenCharacter).
 */
export const HIDDEN_CHARACTER = /[\p{Cc}\p{Cf}]/u;
/**
 * Whether a name someone picks (a passkey's) holds a HIDDEN_CHARACTER. The zero-width joiner and
 * non-joiner stay allowed: emoji sequences (👩‍💻) and Persian or Indic text need them.
 */
export function hasHiddenCharacter(name: string): boolean {
  return HIDDEN_CHARACTER.test(name.replace(/[\u200C\u200D]/g, ''));
}
/** Control characters (NUL, ...): no username or email holds one (and FerretDB on PostgreSQL cannot even look one up). */
const CONTROL = /\p{Cc}/u;

/** The comparison key for a username: NFKC-folded and lowercased. */
export function usernameKey(username: string): string {
  return username.normalize('NFKC').toLowerCase();
}

/** The comparison key for an email: the whole address lowercased (see docs/ACCOUNTS.md). */
export function emailKey(email: string): string {
  return email.normalize('NFKC').toLowerCase();
}

/** An address as compared for sameness (emailKey, trimmed); null for none or a blank one. */
export function addressKey(email: string | null | undefined): string | null {
  return typeof email === 'string' && email.trim() !== '' ? emailKey(email.trim()) : null;
}

/** The key a login string (username or email) is looked up by. */
export function loginKey(login: string): string {
  const key = login.trim().normalize('NFKC').toLowerCase();
  // A login with a control character names nobody: looked up as a blank login, never sent to the store.
  return CONTROL.test(key) ? '' : key;
}

export function validUsername(username: string): string {
  const value = username.trim().normalize('NFKC');
  if (!USERNAME.test(value)) {
    throw new InvalidUserError('username', 'username_format');
  }
  return value;
}

export function validEmail(email: string): string {
  const value = email.trim().normalize('NFKC');
  if (value.length > 254 || !EMAIL.test(value)) throw new InvalidUserError('email', 'not_email');
  return value;
}
