import { fieldProblem, type ErrorDetail } from '../errors/gatehouse-error.ts';
import type { LabelDirectory } from '../roles/directory.ts';

/**
 * Checks of a settings change against what else is stored (the groups' own schemas check the
 * values alone): by group id, the problems of a validated patch, each naming the field.
 */
export type SettingsChecks = Readonly<Record<string, (patch: Readonly<Record<string, unknown>>) => Promise<ErrorDetail[]>>>;

type Directory = Pick<LabelDirectory, 'kind' | 'list'>;

/** Unknown names in a list setting, each with its index: `mfa_required_roles.1: no role named "x"`. */
async function unknownNames(field: string, names: unknown, directory: Directory): Promise<ErrorDetail[]> {
  if (!Array.isArray(names) || names.length === 0) return [];
  const known = new Set((await directory.list()).map((label) => label.name));
  return names.flatMap((name: string, index) => (known.has(name) ? [] : [fieldProblem(`${field}.${index}`, directory.kind === 'role' ? 'unknown_role' : 'unknown_group', { name })]));
}

/** The roles and groups that require a second factor must exist (a typo would quietly require it of nobody). */
export function settingsChecks({ roles, groups }: { readonly roles: Directory; readonly groups: Directory }): SettingsChecks {
  return {
    mfa: async (patch) => [...(await unknownNames('mfa_required_roles', patch.mfa_required_roles, roles)), ...(await unknownNames('mfa_required_groups', patch.mfa_required_groups, groups))],
  };
}
