import { invalid } from '../errors/gatehouse-error.ts';
import { memberDeeperThan } from '../errors/nesting.ts';
import { MAX_GROUP_DEPTH } from './map-roles.ts';

/**
 * Most levels of JSON objects and arrays a value of a Keycloak export may nest: its groups, at most
 * MAX_GROUP_DEPTH deep, take two each (a group, its subGroups), and nothing else a realm export
 * holds nests more than a few. Deeper is refused before anything is written, naming where: the
 * realm's context keeps some values as they are (role composites, groups' roles) and JSON.stringify
 * overflows the stack on them a few thousand levels down, after the roles and clients were written;
 * messages that name a value (String() of an array) overflow the same way. The same bound as a
 * Gatehouse export's realm contexts (src/transfer/export-file.ts), so an imported realm exports.
 */
export const MAX_KEYCLOAK_NESTING = 2 * MAX_GROUP_DEPTH + 32;

/** Segments of a too-deep member's path named in the refusal: the field, not the thousands of levels under it. */
const NAMED_SEGMENTS = 6;

/**
 * The field of `value` that nests past MAX_KEYCLOAK_NESTING (`roles.realm.0.composites.x`: the path
 * of the first member past it, cut to its first segments and without the array indices it ends
 * with), '' for the value itself, or undefined when it nests no deeper.
 */
export function tooDeepField(value: unknown): string | undefined {
  const path = memberDeeperThan(value, MAX_KEYCLOAK_NESTING);
  if (path === undefined) return undefined;
  const named = path.slice(0, NAMED_SEGMENTS);
  while (named.length > 0 && /^\d+$/.test(named.at(-1)!)) named.pop();
  return named.join('.');
}

/** Refuses a value of the export nested past MAX_KEYCLOAK_NESTING: 400 keycloak_too_deep naming the field under `prefix` (`users.3`). */
export function refuseTooDeep(value: unknown, prefix = ''): void {
  const field = tooDeepField(value);
  if (field === undefined) return;
  const path = prefix === '' ? field : field === '' ? prefix : `${prefix}.${field}`;
  throw invalid(path, 'keycloak_too_deep', { max: MAX_KEYCLOAK_NESTING });
}
