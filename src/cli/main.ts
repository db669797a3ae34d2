#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/load.ts';
import { KeyStoreError } from '../keys/key-store.ts';
import { apisCreate, apisList } from './commands/apis.ts';
import { keysList, keysRotate } from './commands/keys.ts';
import { CliError, openContext, type CliContext } from './context.ts';

type Command = (ctx: CliContext, args: string[]) => Promise<void>;

const COMMANDS: Record<string, Command> = {
  'keys list': keysList,
  'apis create': apisCreate,
  'apis list': apisList,
  'keys rotate': keysRotate,
};

const USAGE = `usage: gatehouse <command> [options] [--json]

commands:
  keys list              list signing keys with their status (next, active, retired)
  apis create --identifier URI --scope "read write" [--format jwt|opaque] [--alg RS256|ES256]
              [--ttl SECONDS] [--roles] [--groups] [--name NAME]
  apis list
  keys rotate            add new signing and cookie keys; they sign after GATEHOUSE_KEY_PUBLISH_DELAY

Settings come from the same environment as the server (MONGODB_URI, GATEHOUSE_SECRET, ...).`;

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
  const name = positionals.slice(0, 2).join(' ');
  const command = COMMANDS[name];
  if (values.help === true || command === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return values.help === true ? 0 : 2;
  }
  const ctx = await openContext(process.env, values.json === true);
  try {
    await command(ctx, withoutCommandWords(argv, positionals.slice(0, 2)));
    return 0;
  } finally {
    await ctx.mongo.close();
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigError) {
    for (const problem of error.problems) process.stderr.write(`gatehouse: ${problem}\n`);
    process.exitCode = 78;
  } else if (error instanceof KeyStoreError) {
    process.stderr.write(`gatehouse: ${error.message}\n`);
    process.exitCode = 78;
  } else if (error instanceof CliError) {
    process.stderr.write(`gatehouse: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`gatehouse: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
