import { InvalidUserError } from '../accounts/errors.ts';
import { usernameKey, validEmail, validUsername } from '../accounts/normalize.ts';
import { text, type Json } from './export-json.ts';

/**
 * Who a Keycloak user is in Gatehouse — id, username, email, names — checked by the rules the
 * admin API applies to a user it creates (src/accounts/normalize.ts), so an import never writes a
 * user the API would refuse. A user that breaks them is refused alone, with the reason; the import
 * of the others goes on.
 *
 * One exception is mapped rather than refused: a username that is an email address (Keycloak's
 * "Email as username", or users simply named by their address). A Gatehouse username holds no
 * "@" — a login with one is an email — so the user gets the address's local part as username
 * (made unique within the import) and keeps signing in with the address, which becomes their
 * email when Keycloak had none.
 */

/** A user of the export that is not imported, and why (`field: message`, as the admin API words it). */
export interface RefusedUser {
  readonly user: string;
  readonly reason: string;
}

export type UserIdentity =
  | { readonly ok: true; readonly id: string; readonly username: string; readonly email: string | null; readonly givenName: string | null; readonly familyName: string | null; readonly note?: string }
  | { readonly ok: false; readonly refused: RefusedUser };

/** The longest given or family name the admin API takes (src/accounts/accounts.ts optionalText). */
const NAME_MAX = 256;

/** The username keys of the export's users whose usernames are valid as they are: a derived username avoids them. */
export function validUsernameKeys(users: readonly unknown[]): Set<string> {
  const keys = new Set<string>();
  for (const raw of users) {
    const username = (raw as Json | null)?.username;
    if (typeof username !== 'string') continue;
    try {
      keys.add(usernameKey(validUsername(username)));
    } catch {
      // Not valid: mapped or refused by userIdentity.
    }
  }
  return keys;
}

/** The admin API's refusal of `check` (`field: message`), or undefined when it passes. */
function fieldProblem(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (error instanceof InvalidUserError) return error.message;
    throw error;
  }
}

/**
 * The user at `index` of the export's users. `taken` holds the username keys already in use
 * (validUsernameKeys, plus each username derived so far, which this adds).
 */
export function userIdentity(raw: Json, index: number, taken: Set<string>): UserIdentity {
  const name = typeof raw.username === 'string' ? raw.username : `users.${index}${typeof raw.id === 'string' ? ` (id ${raw.id})` : ''}`;
  const refuse = (reason: string): UserIdentity => ({ ok: false, refused: { user: name, reason } });
  if (typeof raw.username !== 'string') return refuse('username: must be a string');
  if (typeof raw.id !== 'string' || raw.id === '') return refuse('id: must be a string');
  if (raw.email !== undefined && raw.email !== null && typeof raw.email !== 'string') return refuse('email: must be a string');

  let email: string | null = null;
  const given = text(raw.email);
  if (given !== undefined && given.trim() !== '') {
    const problem = fieldProblem(() => (email = validEmail(given).toLowerCase()));
    if (problem !== undefined) return refuse(problem);
  }
  const names: Array<string | null> = [];
  for (const [field, value] of [['given_name', raw.firstName], ['family_name', raw.lastName]] as const) {
    const trimmed = text(value)?.trim() ?? '';
    if (trimmed.length > NAME_MAX) return refuse(`${field}: must be at most ${NAME_MAX} characters`);
    names.push(trimmed === '' ? null : trimmed);
  }
  const [givenName, familyName] = names as [string | null, string | null];

  let username = '';
  const problem = fieldProblem(() => (username = validUsername(raw.username as string)));
  if (problem === undefined) return { ok: true, id: raw.id, username, email, givenName, familyName };

  // An email address as username: the local part, unique within the import.
  let address: string | undefined;
  if (fieldProblem(() => (address = validEmail(raw.username as string).toLowerCase())) !== undefined || address === undefined) return refuse(problem);
  const local = address.slice(0, address.lastIndexOf('@')).normalize('NFKC');
  const base = local.replace(/[^\p{L}\p{N}._-]+/gu, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'user';
  username = base;
  for (let n = 2; taken.has(usernameKey(username)); n += 1) username = `${base}-${n}`;
  taken.add(usernameKey(username));
  email ??= address;
  const before = email === address ? '' : `; ${String(raw.username)} no longer names them`;
  return {
    ok: true,
    id: raw.id,
    username,
    email,
    givenName,
    familyName,
    note: `the username is an email address, which a Gatehouse username cannot be: imported as ${username} (signs in with ${username} or ${email}${before})`,
  };
}
