import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { EXIT } from '../errors/gatehouse-error.ts';
import { CliError } from './cli-error.ts';
import type { CliContext } from './context.ts';
import { shown } from './help.ts';

/**
 * One argument a command takes (a word that is not an option), by the name its usage gives it:
 * `'USER'`; `{ name: 'IDENTIFIER', or: 'identifier' }` when an option may give it instead (then
 * the argument is not taken once the option was); `'NAME=VALUE...'` (last) for any number.
 */
export type Argument = string | { readonly name: string; readonly or: string };

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
  return slots.filter((slot) => typeof slot === 'string' || values[slot.or] === undefined).length;
}

/**
 * Reads command `name`'s line strictly: node:util parseArgs refuses an option the command does not
 * take (its TypeError, said in one line by src/cli/help.ts' unknownOption); a word beyond the
 * arguments it takes is refused here, in the same form, exit 2.
 */
export function parseLine<O extends ParseArgsOptionsConfig>(name: string, line: CommandLine<O>, args: string[]): ParsedLine<O> {
  const parsed = parseArgs({ args, options: { ...line.options, ...JSON_OPTION }, allowPositionals: true, strict: true, allowNegative: line.allowNegative ?? false });
  const stray = parsed.positionals[mostArguments(line, parsed.values)];
  if (stray !== undefined) throw new CliError(`${name}: unexpected argument '${shown(stray)}'; see gatehouse ${name} --help`, EXIT.usage);
  return parsed as ParsedLine<O>;
}
