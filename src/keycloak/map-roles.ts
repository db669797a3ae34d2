import { BUILTIN_CLIENTS } from './map-client.ts';
import { isObject, list, strings, text, type Json, type UnmappedItem } from './export-json.ts';

/**
 * Keycloak roles and groups as Gatehouse labels. Realm roles keep their names; client roles
 * become `<clientId>:<role>` (the `resource_access` claim splits them back). Groups keep their
 * full path (`/staff/editors`), as Keycloak's group-membership mapper writes it. `effective`
 * expands a role reference — composites included — to the labels a user holds.
 */

const BUILTIN_REALM_ROLES = new Set(['offline_access', 'uma_authorization']);

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
  readonly groups: Map<string, GroupInfo>;
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
        roleLabels.set(`${clientId}:${role.name}`, text(role.description) ?? '');
      }
    }
  }
  const effective = (ref: RoleRef, into: Set<string>, seen = new Set<string>()): void => {
    for (const name of ref.realm) {
      if (seen.has(name)) continue;
      seen.add(name);
      if (!builtinRealmRoles.has(name) && roleLabels.has(name)) into.add(name);
      const inner = composites.get(name);
      if (inner !== undefined) effective(inner, into, seen);
    }
    for (const [clientId, names] of Object.entries(ref.client)) {
      for (const name of names) {
        const label = `${clientId}:${name}`;
        if (seen.has(label)) continue;
        seen.add(label);
        if (roleLabels.has(label)) into.add(label);
        const inner = clientRoleComposites.get(label);
        if (inner !== undefined) effective(inner, into, seen);
      }
    }
  };

  // Groups.
  const groups = new Map<string, GroupInfo>();
  walkGroups(document.groups, undefined, groups);
  for (const group of list(document.groups)) {
    if (isObject(group) && isObject(group.attributes) && Object.keys(group.attributes).length > 0) {
      unmapped.push({ kind: 'group', name: String(group.path ?? group.name), reason: `attributes ${Object.keys(group.attributes).join(', ')}: groups carry no attributes in Gatehouse` });
    }
  }

  return { labels: roleLabels, groups, effective: (ref, into) => effective(ref, into) };
}
