/**
 * Help and mistakes for the gatehouse CLI, derived from its usage text so that the two never
 * drift: `gatehouse <command> --help` prints the usage entries of that command, and an unknown
 * command or option is named in one line with the nearest match.
 */
import { SHOWN_LENGTH, shown, typed } from '../errors/shown-text.ts';
import { editDistance as distance } from '../edit-distance.ts';

export { shown, typed };

/** One entry of the usage text: its lines, the group word and the subcommands it describes. */
interface UsageEntry {
  readonly lines: readonly string[];
  readonly group: string;
  readonly subcommands: readonly string[];
}

function entries(usage: string): UsageEntry[] {
  const body = usage.split('\n');
  const start = body.findIndex((line) => line.trim() === 'commands:');
  const result: Array<{ lines: string[]; group: string; subcommands: string[] }> = [];
  for (const line of body.slice(start + 1)) {
    if (/^ {2}\S/.test(line)) {
      const alternatives = line.trim().split(/\s{2,}/)[0]!.split(' | ');
      const [group = '', first = ''] = alternatives[0]!.split(' ');
      const subcommands = [first, ...alternatives.slice(1).map((alternative) => alternative.split(' ')[0]!)];
      result.push({ lines: [line], group, subcommands });
    } else if (/^ {3,}\S/.test(line) && result.length > 0) {
      result.at(-1)!.lines.push(line);
    } else if (line.trim() !== '' && result.length > 0) {
      break;
    }
  }
  return result;
}

function matches(entry: UsageEntry, words: readonly string[]): boolean {
  if (entry.group !== words[0]) return false;
  return words.length === 1 || entry.subcommands.includes(words[1]!) || entry.subcommands.includes('');
}

/** Entries of a command, plus the one it refers to ("same options as create"). */
function entriesOf(usage: string, name: string): UsageEntry[] {
  const all = entries(usage);
  const words = name.split(' ');
  const found = all.filter((entry) => matches(entry, words));
  const referred = found.flatMap((entry) => [...entry.lines.join(' ').matchAll(/same options as ([a-z-]+)/g)].map((match) => match[1]!));
  const extra = all.filter((entry) => !found.includes(entry) && referred.some((sub) => matches(entry, [words[0]!, sub])));
  return [...extra, ...found];
}

/** The lines of the usage text's `examples:` block that run `gatehouse <name>` (a command, or any of a group's). */
function examplesOf(usage: string, name: string): string[] {
  const body = usage.split('\n');
  const start = body.findIndex((line) => line.trim() === 'examples:');
  if (start === -1) return [];
  const runs = new RegExp(`\\bgatehouse ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`);
  return body.slice(start + 1).filter((line) => /^ {2}\S/.test(line) && runs.test(line));
}

/** The usage lines of one command (`clients create`) or a whole group (`clients`), and its examples; undefined if none. */
export function commandHelp(usage: string, name: string): string | undefined {
  const found = entriesOf(usage, name);
  if (found.length === 0) return undefined;
  const examples = examplesOf(usage, name);
  const shownExamples = examples.length === 0 ? '' : `\n\nexamples:\n${examples.join('\n')}`;
  return `usage: gatehouse ${name} [options] [--json]\n\n${found.flatMap((entry) => entry.lines).join('\n')}${shownExamples}`;
}

/** The options the usage text shows for a command, plus the ones every command takes. */
export function commandOptions(usage: string, name: string): string[] {
  const text = entriesOf(usage, name)
    .flatMap((entry) => entry.lines)
    .join('\n');
  return [...new Set([...(text.match(/--[a-z][a-z0-9-]*/g) ?? []), '--json', '--help'])];
}


/** The closest candidate, if it is close enough to be what was meant. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    const score = candidate.startsWith(word) || word.startsWith(candidate) ? 1 : distance(word, candidate);
    if (best === undefined || score < best.score) best = { candidate, score };
  }
  if (best === undefined) return undefined;
  return best.score <= Math.max(2, Math.floor(word.length / 3)) ? best.candidate : undefined;
}

/** The values of src/errors/problems.ts' texts that hold what was typed or read (an id, a name), not the catalogue's own words (`{values}`: the choices). */
const INPUT_PARAMS = new Set(['id', 'name', 'identifier', 'client_id', 'alias', 'realm', 'found', 'path', 'role', 'group', 'scope']);

/** A problem's values (`{id}` of `client {id} does not exist`) as a message quotes input: input as typed() shows it, unquoted; the rest as it is. */
export function typedParams(params: Readonly<Record<string, string | number>> | undefined): Record<string, string | number> {
  return Object.fromEntries(Object.entries(params ?? {}).map(([name, value]) => [name, typeof value === 'string' && INPUT_PARAMS.has(name) ? typed(value, { quote: false }) : value]));
}

/**
 * Subcommand words of other tools (kcadm.sh's `get`, git's `rm`, `ls`) and what they are here: a
 * spelling's nearest match would be a guess (`show` is as near to `list` as to `get`).
 */
const SYNONYMS: Readonly<Record<string, string>> = {
  show: 'get',
  describe: 'get',
  view: 'get',
  ls: 'list',
  rm: 'delete',
  remove: 'delete',
  del: 'delete',
  add: 'create',
  new: 'create',
  edit: 'update',
  set: 'update',
};

function didYouMean(suggestion: string | undefined): string {
  return suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`;
}

/** One line for a command name that does not exist. */
export function unknownCommand(name: string, commands: readonly string[]): string {
  if (name === '') return 'no command given; see gatehouse --help';
  const words = name.split(' ');
  const inGroup = commands.filter((command) => command.split(' ')[0] === words[0]);
  if (inGroup.length > 0 && words.length === 1) {
    return `${name} needs a subcommand: ${inGroup.map((command) => command.split(' ')[1]).join(', ')} (see gatehouse ${name} --help)`;
  }
  // Nothing that long is a typo of a command: no suggestion, and only its start is shown.
  if ([...name].length > SHOWN_LENGTH) return `unknown command '${shown(name)}'; see gatehouse --help`;
  const groups = [...new Set(commands.map((command) => command.split(' ')[0]!))];
  const meant = words.length === 2 && Object.hasOwn(SYNONYMS, words[1]!) ? `${words[0]} ${SYNONYMS[words[1]!]}` : undefined;
  if (meant !== undefined && commands.includes(meant)) return `unknown command '${shown(name)}' (did you mean '${meant}'?); see gatehouse --help`;
  let suggestion = nearest(name, commands);
  const group = nearest(words[0]!, groups);
  if (suggestion === undefined && group !== undefined) {
    const subs = commands.filter((command) => command.startsWith(`${group} `)).map((command) => command.split(' ')[1]!);
    const sub = words[1] === undefined ? undefined : nearest(words[1], subs);
    // The group was typed right and its subcommand is nothing like any: list the group's own.
    if (sub === undefined && group === words[0] && subs.length > 0) return `unknown command '${shown(name)}'; ${group} has: ${subs.join(', ')} (see gatehouse ${group} --help)`;
    suggestion = sub === undefined ? group : `${group} ${sub}`;
  }
  return `unknown command '${shown(name)}'${didYouMean(suggestion === undefined ? undefined : `'${suggestion}'`)}; see gatehouse --help`;
}

/**
 * One line for node:util parseArgs' unknown-option error, or undefined for other errors. Given the
 * command's arguments, an ID that starts with '-' (random session ids do, 1 in 64) and was read as
 * options gets the way out: put it after `--`. Given the options the command takes (`taken`), only
 * those are suggested (the usage text of `users update` refers to create's, some of which it does not take).
 */
export function unknownOption(error: unknown, name: string, usage: string, args: readonly string[] = [], taken?: readonly string[]): string | undefined {
  if (!(error instanceof TypeError) || (error as { code?: unknown }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return undefined;
  const option = /Unknown option '([^']+)'/su.exec(error.message)?.[1] ?? 'given';
  const dashedId = /^-[^-]$/.test(option) ? args.find((arg) => arg.length > 2 && arg.startsWith(option)) : undefined;
  if (dashedId !== undefined) return `${name}: unknown option ${shown(option)}; an ID that starts with '-' goes after --, as in gatehouse ${name} [options] -- ${shown(dashedId)}`;
  const candidates = commandOptions(usage, name).filter((candidate) => candidate !== option && (taken === undefined || taken.includes(candidate)));
  const suggestion = [...option].length > SHOWN_LENGTH ? undefined : nearest(option, candidates);
  return `${name}: unknown option ${shown(option)}${didYouMean(suggestion)}; see gatehouse ${name} --help`;
}

/**
 * One line for node:util parseArgs' refusal of an option's value (none given, one given to a
 * boolean, one that starts with '-'), or undefined for other errors: the command and the option
 * named as an unknown option is, not node's English ("Option '--limit <value>' argument missing").
 */
export function optionValueProblem(error: unknown, name: string, args: readonly string[] = []): string | undefined {
  if (!(error instanceof TypeError) || (error as { code?: unknown }).code !== 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return undefined;
  const see = `; see gatehouse ${name} --help`;
  const missing = /^Option '(?:-[^ ,'], )?(--[^ ']+) <value>' argument missing/u.exec(error.message);
  if (missing !== null) return `${name}: ${shown(missing[1]!)} needs a value${see}`;
  const unwanted = /^Option '(--[^ ']+)' does not take an argument/u.exec(error.message);
  if (unwanted !== null) return `${name}: ${shown(unwanted[1]!)} takes no value${see}`;
  const dashed = /^Option '(--[^ ']+)' argument is ambiguous/u.exec(error.message);
  if (dashed !== null) {
    const option = dashed[1]!;
    const at = args.indexOf(option);
    const value = at === -1 ? undefined : args[at + 1];
    return `${name}: ${shown(option)} needs a value; one that starts with '-' goes as ${shown(option)}=${value === undefined ? '-VALUE' : shown(value)}${see}`;
  }
  return undefined;
}
