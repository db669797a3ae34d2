import { BUILTIN_CLIENTS } from './map-client.ts';
import { isObject, list, strings, text, type Json, type UnmappedItem } from './export-json.ts';
import { ADMIN_ROLE } from '../oidc/admin-scope.ts';
import { HIDDEN_CHARACTER } from '../accounts/normalize.ts';
import { LABEL_NAME_MAX, labelNameProblems } from '../roles/label-name.ts';

/**
 * Keycloak roles and groups as Gatehouse labels. Realm roles keep their names; client roles
 * become `<clientId>:<role>` (the `resource_access` claim splits them back). Groups keep their
 * full path (`/staff/editors`), as Keycloak's group-membership mapper writes it. `effective`
 * expands a role reference — composites included — to the labels a user holds.
 */

const BUILTIN_REALM_ROLES = new Set(['offline_access', 'uma_authorization']);

/**
 * Why the admin API would refuse `label` as a role name (POST /roles: labelName, src/roles/label-name.ts
 * — 1-128 characters, no whitespace, no control or invisible format character: `admin\u200B` reads as
 * admin wherever it is shown, a U+202E reverses the text around it), or undefined. Keycloak takes
 * `Order Manager`; a Gatehouse role of that name could not be created through the API.
 */
function refusedRoleName(label: string): string | undefined {
  const rest = "not created, and given to nobody (its composite's members still are). Rename it in Keycloak";
  switch (labelNameProblems(label)[0]) {
    case 'lone_surrogate':
      return `holds half of a character (a lone UTF-16 surrogate): ${rest}`;
    case 'hidden_character':
      return `holds a control or invisible format character (${visible(label)}): it would read as another role wherever it is shown; ${rest}`;
    case 'too_long':
      return `longer than ${LABEL_NAME_MAX} characters (Gatehouse's limit for a role name): ${rest}`;
    case 'empty':
      return `an empty name: ${rest}`;
    case 'whitespace':
      return `holds whitespace other than single spaces between words (a tab, a line break, another space, two in a row, or at an end: the admin API refuses it in a role's name): ${rest}, and in the apps that check it`;
    default:
      return undefined;
  }
}

/**
 * Why the admin API would refuse a group's path as a group name (labelName, src/roles/label-name.ts:
 * single spaces between words only, no control or invisible format character), or undefined. A
 * Gatehouse group named `Sales  Team` could not be created through the API, and a hidden character
 * makes it read as another group. Not the API's 128 characters: a path holds every parent's name, and the
 * import keeps groups 100 levels deep (MAX_GROUP_DEPTH), as Keycloak's group-membership mapper
 * writes their full paths.
 */
export function refusedGroupPath(path: string): string | undefined {
  const rest = 'not created, and no user is put in it; its members (and its subgroups\' members) keep the roles it gives. Rename it in Keycloak';
  const problems = labelNameProblems(path).filter((problem) => problem !== 'too_long');
  if (problems[0] === 'lone_surrogate') return `holds half of a character (a lone UTF-16 surrogate); ${rest}`;
  if (problems[0] === 'hidden_character') return `holds a control or invisible format character (${visible(path)}): it would read as another group wherever it is shown; ${rest}`;
  if (problems.length > 0) return `holds whitespace other than single spaces between words (Gatehouse's group names have none); ${rest}`;
  return undefined;
}

/** `name` with its hidden characters spelled out (`admin\u200B`), so that a report shows them. */
function visible(name: string): string {
  return name.replace(new RegExp(HIDDEN_CHARACTER.source, 'gu'), (char) => `\\u${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
}

export interface RoleRef {
  readonly realm: string[];
  readonly client: Record<string, string[]>;
}

export function roleRef(realmRoles: unknown, clientRoles: unknown): RoleRef {
  const client: Record<string, string[]> = {};
  if (isObject(clientRoles)) for (const [id, roles] of Object.entries(clientRoles)) client[id] = strings(roles);
  return { realm: strings(realmRoles), client };
}

export interface GroupInfo {
  readonly path: string;
  readonly roles: RoleRef;
  readonly parent: string | undefined;
}

/** Most levels of subgroups an import keeps (a deeper file is refused naming `groups`: realm-import.ts). */
export const MAX_GROUP_DEPTH = 100;

/** How deep a realm's groups nest (1: top-level groups only), counted without recursion: the file is the caller's. */
export function groupDepth(groups: unknown): number {
  let deepest = 0;
  const pending: Array<{ readonly groups: unknown; readonly depth: number }> = [{ groups, depth: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const group of list(next.groups)) {
      if (!isObject(group)) continue;
      deepest = Math.max(deepest, next.depth);
      if (next.depth <= MAX_GROUP_DEPTH) pending.push({ groups: group.subGroups, depth: next.depth + 1 });
    }
  }
  return deepest;
}

/** Each group by its path, parents before their subgroups (in the file's order). */
function walkGroups(groups: unknown, parent: string | undefined, into: Map<string, GroupInfo>): void {
  for (const group of list(groups)) {
    if (!isObject(group)) continue;
    const path = text(group.path) ?? `${parent ?? ''}/${String(group.name)}`;
    into.set(path, { path, roles: roleRef(group.realmRoles, group.clientRoles), parent });
    walkGroups(group.subGroups, path, into);
  }
}

export interface RealmRoles {
  readonly labels: Map<string, string>;
  /** Every group of the export by its path (its roles reach its members), refused ones (refusedGroupPath) too. */
  readonly groups: Map<string, GroupInfo>;
  /** The paths that become Gatehouse groups: the groups' but those refusedGroupPath refuses. */
  readonly groupLabels: ReadonlySet<string>;
  /** Adds the labels a role reference gives (direct, composites), built-in roles left out. */
  effective(ref: RoleRef, into: Set<string>): void;
}

export function mapRoles(document: Json, realm: string, unmapped: UnmappedItem[]): RealmRoles {
  const builtinRealmRoles = new Set([...BUILTIN_REALM_ROLES, `default-roles-${realm.toLowerCase()}`]);
  const roles = isObject(document.roles) ? document.roles : {};

  // Roles, with composites to expand.
  const composites = new Map<string, RoleRef>();
  const roleLabels = new Map<string, string>();
  for (const role of list(roles.realm)) {
    if (!isObject(role) || typeof role.name !== 'string') continue;
    if (isObject(role.composites)) composites.set(role.name, roleRef(role.composites.realm, role.composites.client));
    if (builtinRealmRoles.has(role.name)) continue;
    if (role.name === ADMIN_ROLE) {
      // An application's role in Keycloak (Keycloak's own administrators hold realm-management's client roles,
      // skipped above); in Gatehouse it opens the admin console and API. Never given by an import — directly,
      // through a group, a composite or the realm's default role — and never a default role for new users.
      unmapped.push({ kind: 'role', name: role.name, reason: `Gatehouse's administrator role (admin console and API): not given to anyone by an import; grant Gatehouse administration by hand (gatehouse users update USER --role ${ADMIN_ROLE})` });
      continue;
    }
    const refused = refusedRoleName(role.name);
    if (refused !== undefined) {
      unmapped.push({ kind: 'role', name: visible(role.name), reason: refused });
      continue;
    }
    roleLabels.set(role.name, text(role.description) ?? '');
    if (role.composite === true) unmapped.push({ kind: 'role', name: role.name, reason: 'composite role: its members get the roles it contains (flattened at import; later changes to the composite do not follow)' });
  }
  const clientRoleComposites = new Map<string, RoleRef>();
  if (isObject(roles.client)) {
    for (const [clientId, clientRoles] of Object.entries(roles.client)) {
      for (const role of list(clientRoles)) {
        if (!isObject(role) || typeof role.name !== 'string') continue;
        if (isObject(role.composites)) clientRoleComposites.set(`${clientId}:${role.name}`, roleRef(role.composites.realm, role.composites.client));
        if (BUILTIN_CLIENTS.has(clientId)) continue;
        const label = `${clientId}:${role.name}`;
        const refused = refusedRoleName(label);
        if (refused !== undefined) {
          unmapped.push({ kind: 'role', name: visible(label), reason: refused });
          continue;
        }
        roleLabels.set(label, text(role.description) ?? '');
      }
    }
  }
  // A role reference's members in order: realm roles, then each client's as `<clientId>:<role>`.
  const members = (ref: RoleRef): Array<{ readonly label: string; readonly realm: boolean }> => [
    ...ref.realm.map((name) => ({ label: name, realm: true })),
    ...Object.entries(ref.client).flatMap(([clientId, names]) => names.map((name) => ({ label: `${clientId}:${name}`, realm: false }))),
  ];
  // Depth first, each composite expanded where it stands — without recursion: a composite chain is as long as the file makes it.
  const effective = (start: RoleRef, into: Set<string>): void => {
    const seen = new Set<string>();
    const stack = [{ items: members(start), next: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const item = top.items[top.next];
      if (item === undefined) {
        stack.pop();
        continue;
      }
      top.next += 1;
      if (seen.has(item.label)) continue;
      seen.add(item.label);
      if (item.realm ? !builtinRealmRoles.has(item.label) && roleLabels.has(item.label) : roleLabels.has(item.label)) into.add(item.label);
      const inner = item.realm ? composites.get(item.label) : clientRoleComposites.get(item.label);
      if (inner !== undefined) stack.push({ items: members(inner), next: 0 });
    }
  };


  // Groups.
  const groups = new Map<string, GroupInfo>();
  walkGroups(document.groups, undefined, groups);
  const groupLabels = new Set<string>();
  for (const path of groups.keys()) {
    const refused = refusedGroupPath(path);
    if (refused === undefined) groupLabels.add(path);
    else unmapped.push({ kind: 'group', name: visible(path), reason: refused });
  }
  for (const group of list(document.groups)) {
    if (isObject(group) && isObject(group.attributes) && Object.keys(group.attributes).length > 0) {
      unmapped.push({ kind: 'group', name: String(group.path ?? group.name), reason: `attributes ${Object.keys(group.attributes).join(', ')}: groups carry no attributes in Gatehouse` });
    }
  }

  return { labels: roleLabels, groups, groupLabels, effective };
}
