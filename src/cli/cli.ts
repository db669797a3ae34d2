import { parseArgs } from 'node:util';
import { EXIT, GatehouseError } from '../errors/gatehouse-error.ts';
import { CliError } from './cli-error.ts';
import { parseLine, type Command, type CommandLine } from './command-line.ts';
import type { FlagsOf } from './flag-errors.ts';
import { commandHelp, optionValueProblem, shown, typedParams, unknownCommand, unknownOption } from './help.ts';
import type { CliIo } from './io.ts';
import { USAGE } from './usage.ts';

// Each command's module is imported when that command runs, and only then: help, a mistyped
// command and a flag error load no store driver, no oidc-provider and no argon2, and a command
// loads its own module, not the others'.
const apis = () => import('./commands/apis.ts');
const claimScopes = () => import('./commands/claim-scopes.ts');
const clients = () => import('./commands/clients.ts');
const consents = () => import('./commands/consents.ts');
const idps = () => import('./commands/idps.ts');
const keys = () => import('./commands/keys.ts');
const labels = async (kind: 'roles' | 'groups') => (await import('./commands/labels.ts')).labelCommands(kind);
const sessions = () => import('./commands/sessions.ts');
const settings = () => import('./commands/settings.ts');
const transfer = () => import('./commands/transfer.ts');
const users = () => import('./commands/users.ts');

const COMMANDS: Record<string, () => Promise<Command>> = {
  'clients create': async () => (await clients()).clientsCreate,
  'clients list': async () => (await clients()).clientsList,
  'clients get': async () => (await clients()).clientsGet,
  'clients update': async () => (await clients()).clientsUpdate,
  'clients delete': async () => (await clients()).clientsDelete,
  'clients rotate-secret': async () => (await clients()).clientsRotateSecret,
  'users create': async () => (await users()).usersCreate,
  'users list': async () => (await users()).usersList,
  'users get': async () => (await users()).usersGet,
  'users update': async () => (await users()).usersUpdate,
  'users set-password': async () => (await users()).usersSetPassword,
  'users delete': async () => (await users()).usersDelete,
  'users disable': async () => (await users()).usersDisable,
  'users enable': async () => (await users()).usersEnable,
  'users unlock': async () => (await users()).usersUnlock,
  'users invite': async () => (await users()).usersInvite,
  'users mfa': async () => (await users()).usersMfa,
  'apis create': async () => (await apis()).apisCreate,
  'apis list': async () => (await apis()).apisList,
  'apis get': async () => (await apis()).apisGet,
  'apis update': async () => (await apis()).apisUpdate,
  'apis delete': async () => (await apis()).apisDelete,
  'claim-scopes create': async () => (await claimScopes()).claimScopesCreate,
  'claim-scopes list': async () => (await claimScopes()).claimScopesList,
  'claim-scopes get': async () => (await claimScopes()).claimScopesGet,
  'claim-scopes update': async () => (await claimScopes()).claimScopesUpdate,
  'claim-scopes delete': async () => (await claimScopes()).claimScopesDelete,
  'roles create': async () => (await labels('roles')).create,
  'roles list': async () => (await labels('roles')).list,
  'roles delete': async () => (await labels('roles')).delete,
  'roles assign': async () => (await labels('roles')).assign,
  'roles remove': async () => (await labels('roles')).remove,
  'groups create': async () => (await labels('groups')).create,
  'groups list': async () => (await labels('groups')).list,
  'groups delete': async () => (await labels('groups')).delete,
  'groups assign': async () => (await labels('groups')).assign,
  'groups remove': async () => (await labels('groups')).remove,
  'idps create': async () => (await idps()).idpsCreate,
  'idps list': async () => (await idps()).idpsList,
  'idps get': async () => (await idps()).idpsGet,
  'idps update': async () => (await idps()).idpsUpdate,
  'idps delete': async () => (await idps()).idpsDelete,
  'idps links': async () => (await idps()).idpsLinks,
  'idps unlink': async () => (await idps()).idpsUnlink,
  'sessions list': async () => (await sessions()).sessionsList,
  'sessions revoke': async () => (await sessions()).sessionsRevoke,
  'consents list': async () => (await consents()).consentsList,
  'consents revoke': async () => (await consents()).consentsRevoke,
  audit: async () => (await import('./commands/audit.ts')).auditCommand,
  'keys list': async () => (await keys()).keysList,
  'keys rotate': async () => (await keys()).keysRotate,
  'grants revoke': async () => (await import('./commands/grants.ts')).grantsRevoke,
  'caches flush': async () => (await import('./commands/caches.ts')).cachesFlush,
  'lockouts clear': async () => (await import('./commands/lockouts.ts')).lockoutsClear,
  'settings get': async () => (await settings()).settingsGet,
  'settings set': async () => (await settings()).settingsSet,
  export: async () => (await transfer()).exportCommand,
  import: async () => (await transfer()).importCommand,
};

/** Every command's name (`clients create`, `audit`, `doctor`). */
export const COMMAND_NAMES: readonly string[] = [...Object.keys(COMMANDS), 'doctor'];

/** `gatehouse doctor ISSUER_URL`: it opens its settings itself (it runs without them too), so it is not one of COMMANDS. */
const DOCTOR_LINE: CommandLine = { options: {}, arguments: [{ name: 'ISSUER_URL', optional: true }] };

/**
 * How each command's errors name the fields at fault: by the flags that set them, not by the
 * admin API's names (`--redirect-uri`, not `redirect_uris`). Keyed by command group; `settings
 * set` names its settings as typed (NAME=VALUE) and needs none. Read after the command failed,
 * from the module it ran from.
 */
const FLAGS: Readonly<Record<string, () => Promise<FlagsOf>>> = {
  clients: async () => (await clients()).CLIENT_FLAGS,
  users: async () => (await users()).USER_FLAGS,
  apis: async () => (await apis()).API_FLAGS,
  'claim-scopes': async () => (await claimScopes()).CLAIM_SCOPE_FLAGS,
  roles: async () => (await import('./commands/labels.ts')).LABEL_FLAGS,
  groups: async () => (await import('./commands/labels.ts')).LABEL_FLAGS,
  idps: async () => (await idps()).IDP_FLAGS,
  audit: async () => (await import('./commands/audit.ts')).AUDIT_FLAGS,
  lockouts: async () => (await import('./commands/lockouts.ts')).LOCKOUT_FLAGS,
};

/** Commands that are one word (`export`, `import`); the rest are two. */
const SINGLE_WORD = new Set(['export', 'import', 'audit', 'doctor']);

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

/** An error's one line: whatever input reached it unescaped (a library's words) cannot break the line or drive the terminal. */
function oneLine(text: string): string {
  return shown(text, Infinity);
}

/** How the command ends on an error: the same message every surface shows, and its exit code. */
async function report(raw: unknown, io: CliIo): Promise<number> {
  if (raw instanceof TypeError && 'code' in raw && String(raw.code).startsWith('ERR_PARSE_ARGS')) {
    // node:util's messages quote the argument they refused: shown escaped, like every typed word.
    // Its advice comes as lines: joined into one line of sentences, each escaped.
    io.stderr(`gatehouse: ${shown(raw.message.split('\n').join(' '), 300)}\n`);
    return EXIT.usage;
  }
  // A mistyped command line is said as it is; for any other error the configuration and zod's
  // errors are loaded, to read it as every surface does.
  if (raw instanceof CliError) {
    io.stderr(`gatehouse: ${oneLine(raw.description)}\n`);
    return raw.exitCode;
  }
  const [{ ConfigError }, { normalizeError }, { SettingError }, { problemText }] = await Promise.all([import('../config/load.ts'), import('../errors/normalize.ts'), import('../errors/setting-error.ts'), import('../errors/problems.ts')]);
  if (raw instanceof ConfigError) {
    // Each problem one line (what it quotes of a value is escaped where it is made, src/config/sources.ts).
    for (const problem of raw.problems) io.stderr(`gatehouse: ${oneLine(problem)}\n`);
    return raw.exitCode;
  }
  const error = normalizeError(raw);
  if (raw instanceof SettingError) {
    // A setting's fault, said to the operator who set it: which store could not be reached at
    // which setting (MONGODB_URI, REDIS_URL), not a bare "temporarily unavailable". The exit code
    // stays the outage's (75: retry later) when it is one.
    io.stderr(`gatehouse: ${shown(raw.message, 300)}\n`);
    return error.exitCode;
  }
  // What names nothing (`client {id} does not exist`) says the id as typed input is shown.
  const problem = error.details.length === 0 ? error.problem : undefined;
  const described = problem !== undefined && error.description === problemText(problem.code, problem.params) ? problemText(problem.code, typedParams(problem.params)) : error.description;
  const text = error.status >= 500 && !(raw instanceof GatehouseError) ? `unexpected error: ${raw instanceof Error ? raw.message : String(raw)}` : described;
  io.stderr(`gatehouse: ${oneLine(text)}\n`);
  return error.exitCode;
}

/** Runs one `gatehouse` command line (the words after `gatehouse`) against `io`; its exit code. */
export async function cli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    return await report(error, io);
  }
}
