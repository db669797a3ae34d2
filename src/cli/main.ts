#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/load.ts';
import { EXIT, GatehouseError } from '../errors/gatehouse-error.ts';
import { normalizeError } from '../errors/normalize.ts';
import { apisCreate, apisList } from './commands/apis.ts';
import { clientsCreate, clientsDelete, clientsGet, clientsList, clientsRotateSecret, clientsUpdate } from './commands/clients.ts';
import { grantsRevoke } from './commands/grants.ts';
import { keysList, keysRotate } from './commands/keys.ts';
import { rolesAssign, rolesCreate, rolesDelete, rolesList, rolesRemove } from './commands/roles.ts';
import { exportCommand, importCommand } from './commands/transfer.ts';
import { usersCreate, usersDisable, usersEnable, usersGet, usersList, usersSetPassword, usersUnlock, usersUpdate } from './commands/users.ts';
import { CliError, openContext, type CliContext } from './context.ts';
import { commandHelp, unknownCommand, unknownOption } from './help.ts';

type Command = (ctx: CliContext, args: string[]) => Promise<void>;

const COMMANDS: Record<string, Command> = {
  'clients create': clientsCreate,
  'clients list': clientsList,
  'clients get': clientsGet,
  'clients update': clientsUpdate,
  'clients delete': clientsDelete,
  'clients rotate-secret': clientsRotateSecret,
  'users create': usersCreate,
  'users list': usersList,
  'users get': usersGet,
  'users update': usersUpdate,
  'users set-password': usersSetPassword,
  'users disable': usersDisable,
  'users enable': usersEnable,
  'users unlock': usersUnlock,
  'apis create': apisCreate,
  'apis list': apisList,
  'roles create': rolesCreate,
  'roles list': rolesList,
  'roles delete': rolesDelete,
  'roles assign': rolesAssign,
  'roles remove': rolesRemove,
  'keys list': keysList,
  'keys rotate': keysRotate,
  'grants revoke': grantsRevoke,
  export: exportCommand,
  import: importCommand,
};

/** Commands that are one word (`export`, `import`); the rest are two. */
const SINGLE_WORD = new Set(['export', 'import']);

const USAGE = `usage: gatehouse <command> [options] [--json]

commands:
  clients create --name NAME [--type confidential|public] [--redirect-uri URI]...
                 [--post-logout-redirect-uri URI]... [--grant-type TYPE]... [--scope "a b"]
                 [--api IDENTIFIER]... [--web-origin ORIGIN]... [--first-party] [--admin] [--client-id ID]
                 [--allow-password-grant]   (confidential first-party clients; --no-allow-password-grant on update)
                 [--exchange-api IDENTIFIER]... [--exchange-trust CLIENT_ID]...   (token exchange; --no-token-exchange on update)
  clients list | get ID | delete ID | rotate-secret ID
  clients update ID [same options as create, plus --no-first-party --no-admin]
  users create --username NAME [--email EMAIL] [--name NAME] [--role ROLE]... [--group GROUP]...
               [PROFILE OPTIONS] --password-stdin
      PROFILE OPTIONS (OpenID standard claims): --given-name --family-name --middle-name --nickname
      --profile URL --picture URL --website URL --gender --birthdate YYYY-MM-DD --zoneinfo Europe/Paris
      --locale en-US --phone-number +16045551234 --phone-number-verified --no-phone-number-verified
      --email-verified --no-email-verified --address-formatted --address-street --address-locality
      --address-region --address-postal-code --address-country (together they replace the address)
  users update USER [same options as create, plus --clear-address; an empty value clears a field]
  users get USER
  users list [--query PREFIX] [--role ROLE] [--limit N] [--offset N]
  users set-password USER --password-stdin      (USER: id, username or email)
  users disable USER | enable USER | unlock USER
  apis create --identifier URI --scope "read write" [--format jwt|opaque] [--alg RS256|ES256]
              [--ttl SECONDS] [--roles] [--groups] [--token-claims gatehouse|keycloak] [--name NAME]
  apis list
  roles create NAME [--description TEXT] | list | delete NAME
  roles assign NAME --user USER | remove NAME --user USER
  keys list              list signing keys with their status (next, active, retired)
  keys rotate            add new signing and cookie keys; they sign after GATEHOUSE_KEY_PUBLISH_DELAY
  grants revoke --user USER | --client ID | --grant ID
  export --output FILE   clients (with secrets), APIs, roles, groups, users (with password hashes); mode 0600
  import --input FILE    idempotent; secrets are re-sealed under this deployment's GATEHOUSE_SECRET
  import --keycloak REALM_EXPORT.json [--dry-run] [--api URI]
                         a Keycloak realm export: clients, roles, groups, users with password hashes

Settings come from the same environment as the server (MONGODB_URI, GATEHOUSE_SECRET, ...).
gatehouse <command> --help shows one command's options.`;

/** The arguments after the two command words (which are the first two positionals). */
function withoutCommandWords(argv: string[], words: string[]): string[] {
  const rest = [...argv];
  for (const word of words) rest.splice(rest.indexOf(word), 1);
  return rest;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    allowPositionals: true,
    strict: false,
  });
  const words = SINGLE_WORD.has(positionals[0] ?? '') ? 1 : 2;
  const name = positionals.slice(0, words).join(' ');
  const command = COMMANDS[name];
  if (values.help === true) {
    // `gatehouse --help`, `gatehouse clients --help`, `gatehouse clients create --help`.
    const topic = command !== undefined ? name : positionals.length === 1 ? positionals[0]! : undefined;
    const help = topic === undefined ? (positionals.length === 0 ? USAGE : undefined) : commandHelp(USAGE, topic);
    if (help === undefined) throw new CliError(unknownCommand(name, Object.keys(COMMANDS)), 2);
    process.stdout.write(`${help}\n`);
    return 0;
  }
  if (command === undefined) {
    if (positionals.length === 0) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    throw new CliError(unknownCommand(name, Object.keys(COMMANDS)), 2);
  }
  const ctx = await openContext(process.env, values.json === true);
  try {
    await command(ctx, withoutCommandWords(argv, positionals.slice(0, words))).catch((error: unknown) => {
      const line = unknownOption(error, name, USAGE);
      throw line === undefined ? error : new CliError(line, 2);
    });
    return 0;
  } finally {
    await ctx.mongo.close();
  }
}

/** How the command ends on an error: the same message every surface shows, and its exit code. */
function report(raw: unknown): number {
  if (raw instanceof ConfigError) {
    for (const problem of raw.problems) process.stderr.write(`gatehouse: ${problem}\n`);
    return raw.exitCode;
  }
  if (raw instanceof TypeError && 'code' in raw && String(raw.code).startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`gatehouse: ${raw.message}\n`);
    return EXIT.usage;
  }
  const error = normalizeError(raw);
  const text = error.status >= 500 && !(raw instanceof GatehouseError) ? `unexpected error: ${raw instanceof Error ? raw.message : String(raw)}` : error.description;
  process.stderr.write(`gatehouse: ${text}\n`);
  return error.exitCode;
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  process.exitCode = report(error);
}
