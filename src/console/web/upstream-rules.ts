/**
 * An upstream provider's mapping rules as the console's text shows them, one a line:
 * `claim = value -> role` (or group), as Keycloak's mapper form asks for claim, claim value and
 * role. The claim is what stands before the first `=` (claim names have no whitespace, and an
 * `=` in one is not expected), the name what follows the last `->`, and the value everything
 * between: a value may hold spaces, `=` and `->` (`memberOf = CN=Admins,DC=corp -> Order Manager`).
 * A line without `->` is read the older way, `claim value role` (the last word the name), so
 * lines typed that way still work; the console always writes the new form.
 */

/** A rule with its local name (the role or the group) as `name`. */
export interface RuleText {
  readonly claim: string;
  readonly value: string;
  readonly name: string;
}

/** Why a line is not a rule: not claim = value -> name at all, or one of its parts empty. */
export type RuleProblem = 'invalid' | 'noClaim' | 'noValue' | 'noName';

const ARROW = '->';

export const ruleLine = (rule: RuleText): string => `${rule.claim} = ${rule.value} ${ARROW} ${rule.name}`;

/** The older form: words, the first the claim, the last the name, the value between. */
function spaceSeparated(line: string): RuleText | RuleProblem {
  const words = line.trim().split(/\s+/);
  if (words.length < 3) return 'invalid';
  return { claim: words[0]!, value: words.slice(1, -1).join(' '), name: words.at(-1)! };
}

/** One line as a rule, its parts trimmed, or why it is not one. */
export function parseRuleLine(line: string): RuleText | RuleProblem {
  const arrow = line.lastIndexOf(ARROW);
  if (arrow === -1) return spaceSeparated(line);
  const head = line.slice(0, arrow);
  const equals = head.indexOf('=');
  if (equals === -1) return 'invalid';
  const claim = head.slice(0, equals).trim();
  const value = head.slice(equals + 1).trim();
  const name = line.slice(arrow + ARROW.length).trim();
  if (claim === '') return 'noClaim';
  // Claim names have no whitespace: `my claim = x -> r` is a line that lost its `=` somewhere.
  if (/\s/.test(claim)) return 'invalid';
  if (value === '') return 'noValue';
  if (name === '') return 'noName';
  return { claim, value, name };
}

/**
 * Lines as rules. A line left as the console wrote it (`shown`: its text → the stored rule) keeps
 * that rule exactly, so a save never changes a rule nobody touched — a value the API stored with
 * a space at an end, a role whose name holds `->`. `problem` hears each line that is not a rule
 * (with its index among `lines`).
 */
export function parseRules(lines: readonly string[], shown: ReadonlyMap<string, RuleText>, problem: (index: number, line: string, why: RuleProblem) => void): RuleText[] {
  return lines.flatMap((line, index) => {
    const kept = shown.get(line);
    if (kept !== undefined) return [kept];
    const rule = parseRuleLine(line);
    if (typeof rule === 'string') {
      problem(index, line, rule);
      return [];
    }
    return [rule];
  });
}
