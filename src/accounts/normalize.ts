import { domainToASCII } from 'node:url';
import { isServiceAccountName, SERVICE_ACCOUNT_PREFIX, usernameProblem } from '../config/username-rule.ts';
import { InvalidUserError } from './errors.ts';

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
 * An emoji tag sequence (the RGI subdivision flags: Scotland, England, Wales): the black flag
 * U+1F3F4, tag characters U+E0020–U+E007E, and the cancel tag U+E007F. Tag characters are format
 * characters, but inside such a sequence they draw a flag; anywhere else they are hidden text.
 */
const EMOJI_TAG_SEQUENCE = /\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}/gu;
/**
 * Whether a name someone picks (a passkey's) holds a HIDDEN_CHARACTER. The zero-width joiner and
 * non-joiner stay allowed: emoji sequences (👩‍💻) and Persian or Indic text need them; so do tag
 * characters inside a well-formed emoji tag sequence (🏴 with the tags of a subdivision flag).
 */
export function hasHiddenCharacter(name: string): boolean {
  return HIDDEN_CHARACTER.test(name.replace(EMOJI_TAG_SEQUENCE, '').replace(/[\u200C\u200D]/g, ''));
}
/**
 * Whether `text` holds half of a character: a UTF-16 surrogate without its pair (JSON can carry
 * one, `"\ud800"`). BSON writes text as UTF-8, where it becomes U+FFFD: not what was sent.
 */
export function hasLoneSurrogate(text: string): boolean {
  return /\p{Cs}/u.test(text);
}
/** Control characters (NUL, ...): no username or email holds one (and FerretDB on PostgreSQL cannot even look one up). */
const CONTROL = /\p{Cc}/u;

/** The comparison key for a username: NFKC-folded and lowercased. */
export function usernameKey(username: string): string {
  return username.normalize('NFKC').toLowerCase();
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * The comparison key for a domain: lowercased, and an internationalized one in its ASCII
 * (punycode) form, so `bücher.example` and `xn--bcher-kva.example` are one domain. An ASCII
 * domain is only lowercased (the key every stored ASCII address has had); one the IDNA mapping
 * refuses stays as typed, lowercased.
 */
export function domainKey(domain: string): string {
  const lower = domain.normalize('NFKC').toLowerCase();
  if (ASCII.test(lower)) return lower;
  const ascii = domainToASCII(lower);
  return ascii === '' ? lower : ascii;
}

/**
 * The comparison key for an email: the local part lowercased, the domain by domainKey (see
 * docs/ACCOUNTS.md). Idempotent: the key of a key is itself.
 */
/** The emailKey of a user without an address: unique per user (FerretDB v1 ignores a sparse/partial unique index). */
export function noEmailKey(id: string): string {
  return `none:${id}`;
}

export function emailKey(email: string): string {
  const lower = email.normalize('NFKC').toLowerCase();
  const at = lower.lastIndexOf('@');
  return at < 0 ? lower : lower.slice(0, at + 1) + domainKey(lower.slice(at + 1));
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

/**
 * What attempts at a login are counted under when it names nobody: an address by its emailKey
 * (both forms of an internationalized domain are one login, so neither doubles the guesses
 * before a lock), a username by loginKey.
 */
export function loginCountKey(login: string): string {
  const key = loginKey(login);
  return key.includes('@') ? emailKey(key) : key;
}

export { isServiceAccountName, SERVICE_ACCOUNT_PREFIX };

/** A username derived from something a person or an upstream gave: a service account's name gets `user-` in front. */
export function personalUsername(username: string): string {
  return isServiceAccountName(username) ? `user-${username}` : username;
}

export function validUsername(username: string): string {
  // The rule (letters, digits, `.`, `_`, `-`; not a service account's name) is src/config/username-rule.ts.
  const problem = usernameProblem(username);
  if (problem !== undefined) throw new InvalidUserError('username', problem, problem === 'username_reserved' ? { prefix: SERVICE_ACCOUNT_PREFIX } : undefined);
  return username.trim().normalize('NFKC');
}

export function validEmail(email: string): string {
  const value = email.trim().normalize('NFKC');
  if (value.length > 254 || !EMAIL.test(value)) throw new InvalidUserError('email', 'not_email');
  return value;
}
