import { z } from 'zod';
import { matching } from '../errors/zod-checks.ts';
import { says } from '../errors/problems.ts';
import { hasHiddenCharacter, hasLoneSurrogate } from '../accounts/normalize.ts';

/** Most characters of a role or group name. */
export const LABEL_NAME_MAX = 128;

/**
 * Words with one plain space (U+0020) between two: `Order Manager`, not `Order  Manager`, a tab or
 * a U+3000. Nothing at all passes here: an empty name is `empty`'s problem, said once.
 */
const SINGLE_SPACED = /^(?:\S+(?: \S+)*)?$/;

/**
 * The rule for the name of a role or group, wherever one enters (POST /admin/api/v1/roles and
 * /groups, src/operations/labels.ts; a user's roles and groups, src/operations/users.ts; a
 * service account's roles; default roles; upstream mapping targets; the Keycloak and export
 * imports): 1-128 characters, words with single plain spaces between them (Keycloak's `Order
 * Manager`; no tab, line break, other space or two spaces in a row, which read like one), no
 * control or invisible format character (`admin\u200B` reads as admin wherever it is shown, a
 * U+202E reverses the text around it), no half of a character (a lone UTF-16 surrogate). The
 * ends are trimmed. A Keycloak import holds the roles and groups it creates to it (labelNameProblems).
 */
export const labelName = matching(z.string().trim().min(1).max(LABEL_NAME_MAX), SINGLE_SPACED, 'name_spacing')
  .refine((name) => !hasHiddenCharacter(name), says('hidden_character'))
  .refine((name) => !hasLoneSurrogate(name), says('lone_surrogate'));

export type LabelNameProblem = 'lone_surrogate' | 'hidden_character' | 'too_long' | 'empty' | 'whitespace';

const GRAVEST_FIRST: readonly LabelNameProblem[] = ['lone_surrogate', 'hidden_character', 'too_long', 'empty', 'whitespace'];

/**
 * Why labelName does not take `name` as it stands, the gravest first (none: it does). Whitespace
 * at its ends counts: the API would trim it and keep another name. `empty`: nothing but whitespace.
 */
export function labelNameProblems(name: string): LabelNameProblem[] {
  const parsed = labelName.safeParse(name);
  const found = new Set<LabelNameProblem>();
  if (parsed.success && parsed.data !== name) found.add('whitespace');
  for (const issue of parsed.error?.issues ?? []) {
    if (issue.code === 'too_small') found.add('empty');
    else if (issue.code === 'too_big') found.add('too_long');
    else if (issue.code === 'custom') {
      const code = (issue.params as { code?: unknown } | undefined)?.code;
      if (code === 'hidden_character' || code === 'lone_surrogate') found.add(code);
      else if (code === 'name_spacing') found.add('whitespace');
    }
  }
  return GRAVEST_FIRST.filter((problem) => found.has(problem));
}
