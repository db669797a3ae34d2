import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { EXIT } from '../errors/gatehouse-error.ts';
import { CliError } from './cli-error.ts';
import type { CliContext } from './context.ts';
import { shown } from './help.ts';

/**
 * One argument a command takes (a word that is not an option), by the name its usage gives it:
 * `'USER'` (required); `{ name: 'IDENTIFIER', or: 'identifier' }` when an option may give it
 * instead (then the argument is not taken once the option was); `{ name: 'GROUP', optional: true }`
 * for one that may be left out (the command says itself when it is needed), with `unless: [...]`
 * the options that stand for it (then it is not taken once one of them was: `import --input X
 * stray` refuses `stray`); `'NAME=VALUE...'` (last) for any number.
 */
export type Argument = string | { readonly name: string; readonly or: string } | { readonly name: string; readonly optional: true; readonly unless?: readonly string[] };

/** What one command takes on its line: its options (every command takes --json besides) and its arguments. */
export interface CommandLine<O extends ParseArgsOptionsConfig = ParseArgsOptionsConfig> {
  readonly options: O;
  /** None when left out: a command such as `keys rotate` takes no word after its name. */
  readonly arguments?: readonly Argument[];
  /** `--no-FLAG` for each boolean FLAG (node:util parseArgs' allowNegative). */
  readonly allowNegative?: boolean;
}

const JSON_OPTION = { json: { type: 'boolean' } } as const;

/** The command line as the command reads it: option values and its arguments, as node:util parseArgs returns them. */
export type ParsedLine<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; options: O & typeof JSON_OPTION; allowPositionals: true; strict: true; allowNegative: boolean }>>;

/**
 * A command: its line and what it does with it. The line is read (src/cli/cli.ts) before the
 * settings are and before anything is opened, so an unknown option or a stray argument changes
 * nothing; the command never sees a line it does not take.
 */
export interface Command<O extends ParseArgsOptionsConfig = ParseArgsOptionsConfig> {
  readonly line: CommandLine<O>;
  run(ctx: CliContext, parsed: ParsedLine<O>): Promise<void>;
}

/** Declares a command (src/cli/commands/*): `command({ options: {...}, arguments: ['USER'] }, async (ctx, { values, positionals }) => ...)`. */
export function command<const O extends ParseArgsOptionsConfig>(line: CommandLine<O>, run: (ctx: CliContext, parsed: ParsedLine<O>) => Promise<void>): Command<O> {
  return { line, run };
}

/** How many arguments the line may hold, given the options typed (an option that stands for an argument takes its place). */
function mostArguments(line: CommandLine, values: Readonly<Record<string, unknown>>): number {
  const slots = line.arguments ?? [];
  const last = slots.at(-1);
  if (typeof last === 'string' && last.endsWith('...')) return Infinity;
  const stoodFor = (slot: Exclude<Argument, string>) => ('or' in slot ? values[slot.or] !== undefined : (slot.unless ?? []).some((option) => values[option] !== undefined));
  return slots.filter((slot) => typeof slot === 'string' || !stoodFor(slot)).length;
}

/**
 * The first argument the line needs and lacks, said as the usage names it (`CLIENT_ID is
 * required`; `IDENTIFIER is required (or --identifier IDENTIFIER)` for one an option may give), or
 * undefined: said from the line, before the settings are read and a store is opened.
 */
function missingArgument(line: CommandLine, values: Readonly<Record<string, unknown>>, given: number): string | undefined {
  const needed = (line.arguments ?? []).filter((slot) => (typeof slot === 'string' ? !slot.endsWith('...') : 'or' in slot && values[slot.or] === undefined));
  // An argument an option may give is named first: the option is how the usage shows it (sessions revoke SESSION_ID --user USER).
  const missing = needed.length <= given ? undefined : (needed.find((slot) => typeof slot !== 'string') ?? needed[given]);
  if (missing === undefined) return undefined;
  return typeof missing === 'string' ? `${missing} is required` : `${missing.name} is required (or --${'or' in missing ? missing.or : ''} ${missing.name})`;
}

/**
 * Reads command `name`'s line strictly: node:util parseArgs refuses an option the command does not
 * take (its TypeError, said in one line by src/cli/help.ts' unknownOption); a word beyond the
 * arguments it takes is refused here, in the same form, exit 2.
 */
export function parseLine<O extends ParseArgsOptionsConfig>(name: string, line: CommandLine<O>, args: string[]): ParsedLine<O> {
  const options: ParseArgsOptionsConfig = { ...line.options, ...JSON_OPTION };
  const { tokens, ...parsed } = parseArgs({ args, options, allowPositionals: true, strict: true, allowNegative: line.allowNegative ?? false, tokens: true });
  const twice = repeated(options, tokens);
  if (twice !== undefined) throw new CliError(`${name}: ${twice}; see gatehouse ${name} --help`, EXIT.usage);
  const stray = parsed.positionals[mostArguments(line, parsed.values)];
  if (stray !== undefined) throw new CliError(`${name}: unexpected argument '${shown(stray)}'; see gatehouse ${name} --help`, EXIT.usage);
  const missing = missingArgument(line, parsed.values, parsed.positionals.length);
  if (missing !== undefined) throw new CliError(`${name}: ${missing}; see gatehouse ${name} --help`, EXIT.usage);
  const named = namedTwice(line, parsed.positionals);
  if (named !== undefined) throw new CliError(`${name}: ${shown(named)} named more than once; see gatehouse ${name} --help`, EXIT.usage);
  return parsed as ParsedLine<O>;
}

/**
 * An option the line takes once given again (`--type public --type confidential`, `--roles
 * --no-roles`), said as typed; undefined when none was. Only an option declared `multiple` (a
 * list: `--redirect-uri`, `--role`) repeats: any other would be one value silently dropped.
 */
function repeated(options: ParseArgsOptionsConfig, tokens: ReadonlyArray<{ kind: string; name?: string; rawName?: string }>): string | undefined {
  const seen = new Map<string, string>();
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name === undefined || options[token.name]?.multiple === true) continue;
    const first = seen.get(token.name);
    const raw = token.rawName ?? `--${token.name}`;
    if (first === undefined) seen.set(token.name, raw);
    else return first === raw ? `${shown(raw)} given more than once (it takes one value)` : `give ${shown(first)} or ${shown(raw)}, not both`;
  }
  return undefined;
}

/**
 * For a line of `NAME=VALUE...` arguments (settings set), a NAME given twice (`password-min-length`
 * and `password_min_length` are one name): which value was meant is not guessed.
 */
function namedTwice(line: CommandLine, positionals: readonly string[]): string | undefined {
  if (line.arguments?.at(-1) !== 'NAME=VALUE...') return undefined;
  const seen = new Set<string>();
  for (const argument of positionals) {
    const at = argument.indexOf('=');
    if (at <= 0) continue;
    const key = argument.slice(0, at).trim().replaceAll('-', '_');
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return undefined;
}
