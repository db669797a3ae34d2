import { parseArgs } from 'node:util';
import { CliError } from './cli-error.ts';
import { COMMANDS, DOCTOR_LINE, FLAGS, SINGLE_WORD } from './command-table.ts';
import { parseLine, type CommandLine } from './command-line.ts';
import { commandHelp, optionValueProblem, shown, unknownCommand, unknownOption } from './help.ts';
import type { CliIo } from './io.ts';
import { report } from './report.ts';
import { USAGE } from './usage.ts';

export { COMMAND_NAMES } from './command-table.ts';

/** The arguments after the two command words (which are the first two positionals). */
function withoutCommandWords(argv: string[], words: string[]): string[] {
  const rest = [...argv];
  for (const word of words) rest.splice(rest.indexOf(word), 1);
  return rest;
}

async function run(argv: string[], io: CliIo): Promise<number> {
  // `gatehouse help [COMMAND]`, as git and kubectl take it: `gatehouse [COMMAND] --help`.
  if (argv[0] === 'help') return run([...argv.slice(1), '--help'], io);
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: false,
  });
  // -h and --help count only as words of their own before `--`: read loosely, a dashed ID such as
  // a session id `-Xh3…` is a group of short options holding an `h`.
  const options = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  const help = options.includes('-h') || options.includes('--help');
  const words = SINGLE_WORD.has(positionals[0] ?? '') ? 1 : 2;
  const name = positionals.slice(0, words).join(' ');
  const command = COMMANDS[name];
  if (help) {
    // `gatehouse --help`, `gatehouse clients --help`, `gatehouse clients create --help`.
    const topic = command !== undefined ? name : positionals.length === 1 ? positionals[0]! : undefined;
    const help = topic === undefined ? (positionals.length === 0 ? USAGE : undefined) : commandHelp(USAGE, topic);
    if (help === undefined) throw new CliError(unknownCommand(name, Object.keys(COMMANDS)), 2);
    io.stdout(`${help}\n`);
    return 0;
  }
  if (name === 'doctor') {
    const line = readLine(name, DOCTOR_LINE, withoutCommandWords(argv, ['doctor']));
    const { doctorCommand } = await import('./commands/doctor.ts');
    return doctorCommand(io, line.positionals[0], values.json === true);
  }
  if (command === undefined) {
    if (positionals.length === 0) {
      if (options.length === 1 && options[0] === '--version') {
        const { readFileSync } = await import('node:fs');
        const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
        io.stdout(`gatehouse ${version}\n`);
        return 0;
      }
      // An option and no command (`gatehouse --verbose`): that option named, in one line.
      const option = options.find((word) => word.startsWith('-') && word !== '--json');
      if (option !== undefined) throw new CliError(`unknown option ${shown(option)}; see gatehouse --help`, 2);
      io.stderr(`${USAGE}\n`);
      return 2;
    }
    throw new CliError(unknownCommand(name, Object.keys(COMMANDS)), 2);
  }
  const args = withoutCommandWords(argv, positionals.slice(0, words));
  const chosen = await command();
  // The whole line is read before the settings are and anything is opened: a mistyped option or a
  // stray word (`keys rotate --dry-run`) changes nothing.
  const line = readLine(name, chosen.line, args);
  const { openContext } = await import('./context.ts');
  const ctx = openContext(io, values.json === true);
  try {
    await chosen.run(ctx, line);
  } catch (error) {
    const flags = FLAGS[name.split(' ')[0]!];
    const { inFlags } = await import('./flag-errors.ts');
    throw inFlags(error, flags === undefined ? undefined : await flags(), args);
  }
  return 0;
}

/** The options a line takes as typed: `--name`, `--no-name` for a boolean when it allows negatives, and --json and --help. */
function takenOptions(line: CommandLine): string[] {
  const options = Object.entries(line.options).flatMap(([option, { type }]) => (type === 'boolean' && line.allowNegative === true ? [`--${option}`, `--no-${option}`] : [`--${option}`]));
  return [...options, '--json', '--help'];
}

/** Command `name`'s line read strictly (src/cli/command-line.ts); an unknown option said in one line. */
function readLine(name: string, line: CommandLine, args: string[]) {
  try {
    return parseLine(name, line, args);
  } catch (error) {
    const said = unknownOption(error, name, USAGE, args, takenOptions(line)) ?? optionValueProblem(error, name, args);
    if (said !== undefined) throw new CliError(said, 2);
    throw error;
  }
}

/** Runs one `gatehouse` command line (the words after `gatehouse`) against `io`; its exit code. */
export async function cli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    return await report(error, io);
  }
}
