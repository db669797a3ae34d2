import { InvalidUserError } from '../accounts/errors.ts';
import { usernameKey, validEmail, validUsername } from '../accounts/normalize.ts';
import { shortened } from '../accounts/shortened.ts';
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
 * and keeps signing in with the address, which becomes their email when Keycloak had none. Which
 * user gets `jo` and which `jo-2` must not depend on the export's order, or a re-import of a
 * differently ordered export would try to give `jo` to another user (a conflict instead of an
 * update): addressUsernames() keeps the name an earlier import gave the same Keycloak user, and
 * hands out the rest in the order of the addresses. An email the admin API refuses (Keycloak takes
 * e.g. `admin@localhost`) is dropped rather than the user: the user is imported without it, noted
 * in the report with the reason.
 */

/** A user of the export that is not imported, and why (`field: message`, as the admin API words it). */
export interface RefusedUser {
  readonly user: string;
  readonly reason: string;
}

export type UserIdentity =
  | {
      readonly ok: true;
      readonly id: string;
      /** Empty when `address` is set: addressUsernames() picks it. */
      readonly username: string;
      readonly email: string | null;
      readonly givenName: string | null;
      readonly familyName: string | null;
      readonly notes?: readonly string[];
      /** The Keycloak username was this email address: the Gatehouse username is derived from it. */
      readonly address?: AddressUsername;
    }
  | { readonly ok: false; readonly refused: RefusedUser };

/** A user whose Keycloak username is an email address: `base` (its local part, made a valid username), else `base-2`, `base-3`, … */
export interface AddressUsername {
  readonly id: string;
  /** The Keycloak username, as exported. */
  readonly login: string;
  /** The same, lowercased: the order names are handed out in. */
  readonly address: string;
  readonly base: string;
}

/** A Gatehouse user as it is before the import: an imported user keeps the username derived for it the first time. */
export interface CurrentUser {
  readonly _id: string;
  readonly username: string;
}

/**
 * What an import needs to know of the users Gatehouse has, looked up for one batch of users at a
 * time (never all of them): the username of a user by id, and who holds a username.
 */
export interface CurrentUsers {
  /** The username of the Gatehouse user with this id, or undefined when there is none. */
  usernameOf(id: string): string | undefined;
  /** The id of the Gatehouse user holding this username key; null: nobody; undefined: not looked up yet. */
  holderOf(key: string): string | null | undefined;
}

/** CurrentUsers over a list of every user (a plan on its own, the unit tests). */
export function currentUsersOf(users: readonly CurrentUser[]): CurrentUsers {
  const byId = new Map(users.map((user) => [user._id, user.username]));
  const holders = new Map(users.map((user) => [usernameKey(user.username), user._id]));
  return { usernameOf: (id) => byId.get(id), holderOf: (key) => holders.get(key) ?? null };
}

/** The username keys addressUsernames() needs to know the holder of before it can choose. */
export interface MissingHolders {
  readonly missing: readonly string[];
}

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
 * The usernames of the users whose Keycloak username is an email address (by Keycloak id), the
 * same whatever the order of the batch. `taken` holds the username keys the batch's other users
 * keep (validUsernameKeys); each name chosen is added to it. First, a user Gatehouse already has
 * (same id) keeps its username if it is one derived from the same local part (`base` or
 * `base-<n>`) — so a re-import, however ordered and with users added or gone, updates instead of
 * renaming. Then the others, in the order of their addresses (then ids), get the first of `base`,
 * `base-2`, … that neither the import nor another Gatehouse user holds. When it needs to know
 * who holds a name that `current` has not looked up, it returns those names (MissingHolders) and
 * changes nothing: the caller looks them up and asks again.
 */
export function addressUsernames(wanted: readonly AddressUsername[], taken: Set<string>, current: CurrentUsers): Map<string, string> | MissingHolders {
  const chosen = new Map<string, string>();
  const claimed = new Set(taken);
  const missing = new Set<string>();
  const take = (id: string, username: string) => {
    chosen.set(id, username);
    claimed.add(usernameKey(username));
  };
  for (const { id, base } of wanted) {
    const username = current.usernameOf(id);
    if (username === undefined || claimed.has(usernameKey(username))) continue;
    const key = usernameKey(username);
    const baseKey = usernameKey(base);
    if (key === baseKey || (key.startsWith(`${baseKey}-`) && /^[1-9][0-9]*$/.test(key.slice(baseKey.length + 1)))) take(id, username);
  }
  const rest = wanted.filter(({ id }) => !chosen.has(id)).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const { id, base } of rest) {
    if (chosen.has(id)) continue;
    let username = base;
    for (let n = 2; ; n += 1) {
      const key = usernameKey(username);
      const holder = claimed.has(key) ? 'import' : current.holderOf(key);
      if (holder === undefined) missing.add(key);
      if (holder === undefined || holder === null || holder === id) break;
      username = `${base}-${n}`;
    }
    take(id, username);
  }
  if (missing.size > 0) return { missing: [...missing] };
  for (const username of chosen.values()) taken.add(usernameKey(username));
  return chosen;
}

/** The note a user with a derived username gets in the report. */
export function addressUsernameNote(username: string, { login, address }: AddressUsername, email: string): string {
  const before = email === address ? '' : `; ${login} no longer names them`;
  return `the username is an email address, which a Gatehouse username cannot be: imported as ${username} (signs in with ${username} or ${email}${before})`;
}

/**
 * The user at `index` of the export's users (`where`: the document, for an export in files). A username that is an email address is left empty
 * with `address` set: addressUsernames() picks it once every user of the export is known.
 */
export function userIdentity(raw: Json, index: number, where = ''): UserIdentity {
  const name = typeof raw.username === 'string' ? raw.username : `${where}users.${index}${typeof raw.id === 'string' ? ` (id ${raw.id})` : ''}`;
  const refuse = (reason: string): UserIdentity => ({ ok: false, refused: { user: name, reason } });
  if (typeof raw.username !== 'string') return refuse('username: must be a string');
  if (typeof raw.id !== 'string' || raw.id === '') return refuse('id: must be a string');
  if (raw.email !== undefined && raw.email !== null && typeof raw.email !== 'string') return refuse('email: must be a string');

  let email: string | null = null;
  // An address Gatehouse refuses (Keycloak takes e.g. admin@localhost) is dropped, not the user.
  const dropped: string[] = [];
  const given = text(raw.email);
  if (given !== undefined && given.trim() !== '') {
    const problem = fieldProblem(() => (email = validEmail(given).toLowerCase()));
    if (problem !== undefined) dropped.push(`${problem} (${JSON.stringify(given)}): imported without this email`);
  }
  const names: Array<string | null> = [];
  for (const [field, value] of [['given_name', raw.firstName], ['family_name', raw.lastName]] as const) {
    const trimmed = text(value)?.trim() ?? '';
    if (trimmed.length > NAME_MAX) return refuse(`${field}: must be at most ${NAME_MAX} characters`);
    names.push(trimmed === '' ? null : trimmed);
  }
  const [givenName, familyName] = names as [string | null, string | null];
  const notes = dropped.length > 0 ? { notes: dropped } : {};

  let username = '';
  const problem = fieldProblem(() => (username = validUsername(raw.username as string)));
  if (problem === undefined) return { ok: true, id: raw.id, username, email, givenName, familyName, ...notes };

  // An email address as username: its local part, made a valid username (addressUsernames makes it unique).
  let address: string | undefined;
  if (fieldProblem(() => (address = validEmail(raw.username as string).toLowerCase())) !== undefined || address === undefined) return refuse(problem);
  const local = address.slice(0, address.lastIndexOf('@')).normalize('NFKC');
  const base = shortened(local.replace(/[^\p{L}\p{N}._-]+/gu, '-').replace(/^-+|-+$/g, ''), 60) || 'user';
  return { ok: true, id: raw.id, username: '', email: email ?? address, givenName, familyName, ...notes, address: { id: raw.id, login: raw.username, address, base } };
}
