import { profileAttributesInput, type ProfileAttributes } from '../accounts/profile-attributes.ts';
import { attributeNameProblem, attributesProblem, attributeValueProblem, type CustomAttributeValue } from '../accounts/custom-attributes.ts';
import { noEmailKey, type StoredUser } from '../accounts/user-model.ts';
import { emailKey, hasHiddenCharacter, personalUsername, usernameKey } from '../accounts/normalize.ts';
import { problemText } from '../errors/problems.ts';
import type { ImportedTotp } from '../mfa/factors.ts';
import { isObject, jsonField, list, strings, text, type Json, type UnmappedItem } from './export-json.ts';
import { keycloakPasswordHash, NO_USABLE_PASSWORD } from './map-password.ts';
import { unusablePasswordNote } from './unusable-password-note.ts';
import { KEYCLOAK_REQUIRED_ACTIONS, orderedActions, type RequiredAction } from '../accounts/required-actions.ts';
import { refusedGroupPath, roleRef, type GroupInfo, type RealmRoles } from './map-roles.ts';
import { SERVICE_ACCOUNT_ROLES_MAX } from '../clients/spec.ts';
import { keycloakTotp } from './otp-credential.ts';
import { addressUsernameNote, addressUsernames, userIdentity, validUsernameKeys, type CurrentUsers, type MissingHolders, type RefusedUser, type UserIdentity } from './user-identity.ts';

/**
 * Keycloak users as Gatehouse users: Keycloak's id stays their `sub` (tokens name the same
 * subject as before); effective roles (direct, from groups and their parents, composites: the
 * realm's default role where the export maps it); group paths; password hashes as Keycloak stored them; the first
 * time-based OTP credential as their authenticator app (src/keycloak/otp-credential.ts);
 * attributes named after OpenID standard claims. Federated identities are mapped by
 * src/keycloak/map-identity-providers.ts.
 */

export interface PlannedUser {
  readonly user: StoredUser;
  /** The Keycloak algorithm of the kept password, or undefined when the user has none usable. */
  readonly passwordAlgorithm: string | undefined;
  /** When Keycloak set the password (ms); a re-import replaces a Gatehouse password only when this is newer. */
  readonly passwordSetAt: Date;
  /** The user's authenticator app (Keycloak OTP credential), taken over as their TOTP factor. */
  readonly totp: ImportedTotp | undefined;
}

const STRING_ATTRIBUTES = new Set(['middle_name', 'nickname', 'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'phone_number']);

/**
 * Which users of a batch a pass maps: an import writes the users whose Keycloak username is a valid
 * Gatehouse username first (`named`), then — every other name being known — those whose username
 * is an email address (`derived`); `all` maps both at once (a plan on its own).
 */
export type UserPass = 'named' | 'derived' | 'all';

/** The pass that maps this user of the export (mapUsers): `derived` when its username is an email address, else `named` (refused users and service accounts too). */
export function userPassOf(raw: unknown): 'named' | 'derived' {
  if (!isObject(raw) || (typeof raw.username === 'string' && text(raw.serviceAccountClientId) !== undefined)) return 'named';
  const identity = userIdentity(raw, 0);
  return identity.ok && identity.address !== undefined ? 'derived' : 'named';
}

/** A client's service-account user (Keycloak's `serviceAccountClientId`): its effective roles become the client's `service_account_roles`. */
export interface PlannedServiceAccount {
  /** Keycloak's username for it (`service-account-<client>`). */
  readonly username: string;
  readonly clientId: string;
  readonly roles: readonly string[];
}

export interface MapUsersOptions {
  readonly pass: UserPass;
  /** Where the service-account users' roles go (they are not users in Gatehouse). */
  readonly serviceAccounts?: PlannedServiceAccount[];
  /** The users' place: their index in the document is `offset` + their index in the batch; `where` names the document (`acme-users-3.json: `). */
  readonly offset?: number;
  readonly where?: string;
}

/**
 * A user's effective roles: direct ones and those of each group and its parents (composites
 * expanded). The realm's default role only where the export maps it (directly, through a group or a
 * composite), as Keycloak 26's own import grants it: Keycloak maps the default role to every user and
 * service account it creates (addUser's default roles), an administrator may take it away, and the
 * export lists what is left; its import creates users without default roles and grants the listed
 * mappings (DefaultExportImportManager.createUser: addUser(…, false, false)).
 */
function effectiveRoles(raw: Json, { effective, groups }: RealmRoles, note: (reason: string) => void): Set<string> {
  const given = new Set<string>();
  effective(roleRef(raw.realmRoles, raw.clientRoles), given);
  for (const path of strings(raw.groups)) {
    let group = groups.get(path);
    if (group === undefined) note(`group ${path}: not in the export's groups`);
    // Paths are the file's: a group may name its parent's path, or two groups each other's. Each once.
    const walked = new Set<GroupInfo>();
    while (group !== undefined && !walked.has(group)) {
      walked.add(group);
      effective(group.roles, given);
      group = group.parent === undefined ? undefined : groups.get(group.parent);
    }
  }
  return given;
}

/**
 * A user whose username would be derived from an address like `service-account-x@…`: the derived
 * name gets `user-` in front (personalUsername), as a self-registered one does — that name is what
 * a client's service account is called in its tokens. (A Keycloak username that is such a name
 * itself is refused by validUsername; Keycloak's own service-account users never reach here.)
 */
function personal(identity: UserIdentity): UserIdentity {
  if (!identity.ok || identity.address === undefined) return identity;
  const base = personalUsername(identity.address.base);
  return base === identity.address.base ? identity : { ...identity, address: { ...identity.address, base } };
}

/**
 * `current`: the Gatehouse users before this import (looked up for this batch), so that a user
 * whose Keycloak username is an email address keeps the username an earlier import derived for it.
 * Returns the username keys still to look up (MissingHolders) when it needs them.
 */
export function mapUsers(
  document: Json,
  roles: RealmRoles,
  now: Date,
  unmapped: UnmappedItem[],
  refused: RefusedUser[],
  current: CurrentUsers,
  { pass, offset = 0, where = '', serviceAccounts = [] }: MapUsersOptions = { pass: 'all' },
): PlannedUser[] | MissingHolders {
  const users: PlannedUser[] = [];
  const exported = list(document.users);
  const identities = exported.map((raw, index) => {
    if (!isObject(raw)) return { raw, identity: undefined };
    if (typeof raw.username === 'string' && text(raw.serviceAccountClientId) !== undefined) return { raw, identity: undefined };
    return { raw, identity: personal(userIdentity(raw, offset + index, where)) };
  });
  // Usernames derived from addresses once every user of the batch is known: the same for any order of it.
  const derived =
    pass === 'named'
      ? new Map<string, string>()
      : addressUsernames(
          identities.flatMap(({ identity }) => (identity?.ok === true && identity.address !== undefined ? [identity.address] : [])),
          validUsernameKeys(exported),
          current,
        );
  if (!(derived instanceof Map)) return derived;
  for (const [index, { raw, identity }] of identities.entries()) {
    const address = identity?.ok === true && identity.address !== undefined;
    // Each user in one pass: refused users, service accounts and named users in the first.
    if (pass === 'derived' ? !address : pass === 'named' && address) continue;
    if (!isObject(raw)) {
      refused.push({ user: `${where}users.${offset + index}`, reason: 'must be an object' });
      continue;
    }
    if (identity === undefined) {
      // Not a user in Gatehouse: client_credentials tokens name the client, and carry these roles as its service_account_roles.
        const accountRoles = [...effectiveRoles(raw, roles, () => undefined)].sort();
      if (accountRoles.length > SERVICE_ACCOUNT_ROLES_MAX) {
        // The admin API's limit for service_account_roles: none of them rather than an arbitrary part.
        const reason = `${accountRoles.length} roles, more than the ${SERVICE_ACCOUNT_ROLES_MAX} a client's service_account_roles holds: not carried over (its client's service-account roles are left as they are); give the service account fewer roles in Keycloak and import again, or set them in Gatehouse (gatehouse clients update CLIENT --service-account-role ROLE …)`;
        unmapped.push({ kind: 'service account', name: String(raw.username), reason });
        continue;
      }
      serviceAccounts.push({ username: String(raw.username), clientId: String(raw.serviceAccountClientId), roles: accountRoles });
      continue;
    }
    if (!identity.ok) {
      refused.push(identity.refused);
      continue;
    }
    const { email } = identity;
    const username = identity.address === undefined ? identity.username : (derived.get(identity.id) as string);
    const note = (reason: string) => unmapped.push({ kind: 'user', name: String(raw.username), reason });
    for (const reason of identity.notes ?? []) note(reason);
    // A name with a control or invisible format character (a U+202E reverses what follows) is refused wherever a name is picked: left out.
    const [givenName, familyName] = (['given_name', 'family_name'] as const).map((field) => {
      const value = field === 'given_name' ? identity.givenName : identity.familyName;
      if (value === null || !hasHiddenCharacter(value)) return value;
      note(`${field}: ${problemText('hidden_character')}: imported without it`);
      return null;
    }) as [string | null, string | null];
    if (identity.address !== undefined && email !== null) note(addressUsernameNote(username, identity.address, email));
    const userRoles = effectiveRoles(raw, roles, note);
    // Refused paths (refusedGroupPath: reported with the realm) are no group here; their roles came above.
    const memberOf = strings(raw.groups).filter((path) => refusedGroupPath(path) === undefined);
    let passwordHash = NO_USABLE_PASSWORD;
    let passwordAlgorithm: string | undefined;
    let passwordSetAt = new Date(typeof raw.createdTimestamp === 'number' ? raw.createdTimestamp : now.getTime());
    let totp: ImportedTotp | undefined;
    let temporaryPassword = false;
    for (const credential of list(raw.credentials)) {
      if (!isObject(credential)) continue;
      if (credential.type === 'password' && passwordAlgorithm === undefined) {
        const kept = keycloakPasswordHash(credential);
        if (kept === undefined) note(unusablePasswordNote(credential));
        else {
          passwordHash = kept.hash;
          passwordAlgorithm = kept.algorithm;
          // Keycloak's "Temporary" switch: the user must choose another at their next sign-in.
          temporaryPassword = credential.temporary === true;
          if (typeof credential.createdDate === 'number') passwordSetAt = new Date(credential.createdDate);
        }
      } else if (credential.type === 'otp') {
        const label = text(credential.userLabel) === undefined ? 'authenticator' : `authenticator "${String(credential.userLabel)}"`;
        if (totp !== undefined) {
          note(`${label}: not imported (Gatehouse keeps one authenticator app per user; the first in Keycloak's order was)`);
          continue;
        }
        const otp = keycloakTotp(credential, jsonField(credential.secretData), jsonField(credential.credentialData));
        if (otp.ok) totp = otp.totp;
        else note(`${label}: ${otp.reason}`);
      } else if (credential.type !== 'password') {
        note(`${String(credential.type)} credential: not imported (passwords and time-based authenticators are)`);
      }
    }
    const federation = text(raw.federationLink);
    if (federation !== undefined) {
      // Keycloak checks such a user's password against the directory (LDAP, Kerberos): it is not in the export.
      if (passwordAlgorithm === undefined) note(`stored in user federation ${federation} (LDAP/Kerberos), which holds the password: imported without a usable password — the user sets one with "Forgot password?" or an invitation (gatehouse users invite), or signs in through an identity provider`);
    } else if (passwordAlgorithm === undefined && list(raw.credentials).length === 0) note('no password in Keycloak (e.g. signs in through an identity provider): imported without a usable password');
    const requiredActions = keycloakRequiredActions(strings(raw.requiredActions), temporaryPassword, note);
    const attributes: Record<string, unknown> = {};
    const custom: Record<string, CustomAttributeValue> = {};
    const skipped: string[] = [];
    const unfit: string[] = [];
    for (const [name, values] of Object.entries(isObject(raw.attributes) ? raw.attributes : {})) {
      // Attributes named after an OpenID standard claim become that claim; the others custom attributes (src/accounts/custom-attributes.ts).
      const value = strings(values).filter((entry) => entry !== '');
      if (STRING_ATTRIBUTES.has(name)) {
        const schema = profileAttributesInput[name as keyof typeof profileAttributesInput];
        const parsed = value.length === 1 ? schema.safeParse(value[0]) : undefined;
        if (parsed?.success === true && typeof parsed.data === 'string') attributes[name] = parsed.data;
        else skipped.push(name);
        continue;
      }
      if (value.length === 0) continue;
      // Keycloak keeps every attribute as a list: one value is a text here, several a list.
      const kept: CustomAttributeValue = value.length === 1 ? value[0]! : value;
      const problem = attributeNameProblem(name) ?? attributeValueProblem(kept)?.code ?? attributesProblem({ ...custom, [name]: kept })?.code;
      if (problem === undefined) custom[name] = kept;
      else unfit.push(`${name} (${problem})`);
    }
    if (skipped.length > 0) note(`attributes ${skipped.join(', ')}: not imported (an attribute named after an OpenID standard claim must be one valid value)`);
    if (unfit.length > 0) note(`attributes ${unfit.join(', ')}: not imported (custom attributes' names, values and sizes are limited: README "Claims")`);
    const created = new Date(typeof raw.createdTimestamp === 'number' ? raw.createdTimestamp : now.getTime());
    users.push({
      passwordAlgorithm,
      passwordSetAt,
      totp,
      user: {
        _id: identity.id,
        username,
        usernameKey: usernameKey(username),
        email,
        emailKey: email === null ? noEmailKey(identity.id) : emailKey(email),
        emailVerified: email !== null && raw.emailVerified === true,
        givenName,
        familyName,
        name: [givenName, familyName].filter((part) => part !== null).join(' ') || null,
        roles: [...userRoles].sort(),
        groups: memberOf,
        disabled: raw.enabled === false,
        secondFactor: totp !== undefined,
        ...(requiredActions.length > 0 ? { requiredActions } : {}),
        ...(Object.keys(attributes).length > 0 ? { attributes: attributes as ProfileAttributes } : {}),
        ...(Object.keys(custom).length > 0 ? { customAttributes: custom } : {}),
        passwordHash,
        // null: the user has no password to sign in with (the account page counts sign-in methods by it).
        passwordChangedAt: passwordAlgorithm === undefined ? null : passwordSetAt,
        lastLoginAt: null,
        createdAt: created,
        updatedAt: now,
      },
    });
  }
  return users;
}

/**
 * Keycloak's required actions as Gatehouse's (src/accounts/required-actions.ts): UPDATE_PASSWORD,
 * VERIFY_EMAIL, CONFIGURE_TOTP and UPDATE_PROFILE, plus update_password for a kept password that
 * Keycloak marked temporary; any other (TERMS_AND_CONDITIONS, webauthn-register, a custom one) is
 * reported as not carried over.
 */
export function keycloakRequiredActions(names: readonly string[], temporaryPassword: boolean, note: (reason: string) => void): RequiredAction[] {
  const actions: RequiredAction[] = temporaryPassword ? ['update_password'] : [];
  for (const name of names) {
    const action = Object.hasOwn(KEYCLOAK_REQUIRED_ACTIONS, name) ? KEYCLOAK_REQUIRED_ACTIONS[name] : undefined;
    if (action === undefined) note(`required action ${name}: not carried over (Gatehouse asks for update_password, verify_email, configure_totp and update_profile)`);
    else actions.push(action);
  }
  return orderedActions(actions);
}
