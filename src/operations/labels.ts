import { z } from 'zod';
import { matching } from '../errors/zod-checks.ts';
import type { Label, LabelDirectory } from '../roles/directory.ts';
import type { AuditTrail } from '../observability/audit-trail.ts';
import type { OperationContext } from './context.ts';
import { notFound } from './errors.ts';
import type { LastAdminGuard } from './last-admin.ts';
import { ADMIN_ROLE } from '../oidc/admin-scope.ts';
import { hasHiddenCharacter, hasLoneSurrogate } from '../accounts/normalize.ts';
import { says } from '../errors/problems.ts';

/** What else names a role or group, taken off when it is deleted (role-references.ts, group-references.ts); what, for the audit event. */
export interface LabelReferences {
  assertDetachable(name: string): void;
  detach(name: string): Promise<object>;
}

export const labelCreateSchema = z
  .object({
    name: matching(z.string().trim().min(1).max(128), /^[^\s]+$/, 'no_spaces')
      .refine((name) => !hasHiddenCharacter(name), says('hidden_character'))
      .refine((name) => !hasLoneSurrogate(name), says('lone_surrogate')),
    description: z.string().max(1000).default(''),
  })
  .strict();

export const labelAssignSchema = z.object({ user_id: z.string().min(1) }).strict();

export function showLabel(label: Label) {
  return { name: label.name, description: label.description, created_at: label.createdAt.toISOString() };
}

/**
 * Roles and groups: the same operations over two directories; roles with the last-admin guard
 * (src/operations/last-admin.ts); what else names a role or a group is taken off with it
 * (src/operations/role-references.ts, group-references.ts).
 */
export function labelOperations(directory: LabelDirectory, audit: AuditTrail, lastAdmin?: LastAdminGuard, references?: LabelReferences) {
  const { kind } = directory;
  // Taking the admin role from its last enabled holder, or deleting it: 409 last_admin.
  const removingRole = <T>(name: string, change: () => Promise<T>) => (lastAdmin === undefined ? change() : lastAdmin.removingRole(name, change));
  const removingFrom = <T>(userId: string, name: string, change: () => Promise<T>) => (lastAdmin === undefined || name !== ADMIN_ROLE ? change() : lastAdmin.removing(userId, change));
  return {
    list: () => directory.list(),
    async create(ctx: OperationContext, body: unknown): Promise<Label> {
      const input = labelCreateSchema.parse(body);
      const label = await directory.create(input.name, input.description);
      await audit.write({ ...ctx, type: `${kind}.created` as const, target: { type: kind, id: label.name } });
      return label;
    },
    async delete(ctx: OperationContext, name: string): Promise<void> {
      references?.assertDetachable(name);
      if (!(await removingRole(name, () => directory.remove(name)))) throw notFound(kind === 'role' ? 'role_not_found' : 'group_not_found', name);
      const detached = (await references?.detach(name)) ?? {};
      await audit.write({ ...ctx, type: `${kind}.deleted` as const, target: { type: kind, id: name }, ...(Object.keys(detached).length === 0 ? {} : { details: { ...detached } }) });
    },
    async assign(ctx: OperationContext, name: string, body: unknown): Promise<void> {
      const userId = labelAssignSchema.parse(body).user_id;
      if ((await directory.get(name)) === undefined) throw notFound(kind === 'role' ? 'role_not_found' : 'group_not_found', name);
      const result = await directory.assign(userId, name);
      if (result === 'no_user') throw notFound('user_not_found', userId);
      // Assigning what the user has answers 204 like a change (Keycloak's role mappings do) but audits nothing.
      if (result === 'unchanged') return;
      await audit.write({ ...ctx, type: `${kind}.assigned` as const, target: { type: 'user', id: userId }, details: { [kind]: name } });
    },
    async unassign(ctx: OperationContext, name: string, userId: string): Promise<void> {
      if ((await directory.get(name)) === undefined) throw notFound(kind === 'role' ? 'role_not_found' : 'group_not_found', name);
      const result = await removingFrom(userId, name, () => directory.unassign(userId, name));
      if (result === 'no_user') throw notFound('user_not_found', userId);
      if (result === 'unchanged') return;
      await audit.write({ ...ctx, type: `${kind}.removed` as const, target: { type: 'user', id: userId }, details: { [kind]: name } });
    },
  };
}
