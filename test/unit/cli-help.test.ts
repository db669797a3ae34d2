import { parseArgs } from 'node:util';
import { expect } from 'chai';
import { cli } from '../../src/cli/cli.ts';
import { commandHelp, commandOptions, nearest, unknownCommand, unknownOption } from '../../src/cli/help.ts';

const USAGE = `usage: gatehouse <command> [options] [--json]

commands:
  clients create --name NAME [--type confidential|public] [--redirect-uri URI]...
                 [--first-party]
  clients list | get ID | delete ID
  clients update ID [same options as create, plus --no-first-party]
  users disable USER | enable USER
  export --output FILE   everything

Settings come from the environment.`;
const COMMANDS = ['clients create', 'clients list', 'clients get', 'clients delete', 'clients update', 'users disable', 'users enable', 'export'];

describe('gatehouse CLI help and mistakes', () => {
  it('shows one command its usage entry, continuation lines included; a group gets all of its entries', () => {
    expect(commandHelp(USAGE, 'clients create')).to.equal(
      'usage: gatehouse clients create [options] [--json]\n\n  clients create --name NAME [--type confidential|public] [--redirect-uri URI]...\n                 [--first-party]',
    );
    expect(commandHelp(USAGE, 'clients get')).to.include('clients list | get ID | delete ID').and.not.include('--name');
    expect(commandHelp(USAGE, 'users enable')).to.include('users disable USER | enable USER');
    expect(commandHelp(USAGE, 'export')).to.include('export --output FILE');
    expect(commandHelp(USAGE, 'clients')!.split('\n').filter((line) => line.startsWith('  clients'))).to.have.length(3);
    expect(commandHelp(USAGE, 'nothing')).to.equal(undefined);
  });

  it('includes the entry a command refers to ("same options as create")', () => {
    expect(commandHelp(USAGE, 'clients update')).to.include('--redirect-uri').and.include('--no-first-party');
    expect(commandOptions(USAGE, 'clients update')).to.include.members(['--name', '--first-party', '--no-first-party', '--json', '--help']);
  });

  it('suggests the nearest command, group or option, and nothing when nothing is close', () => {
    expect(unknownCommand('clients lst', COMMANDS)).to.equal("unknown command 'clients lst' (did you mean 'clients list'?); see gatehouse --help");
    expect(unknownCommand('clinets creat', COMMANDS)).to.include("did you mean 'clients create'?");
    expect(unknownCommand('exprt', COMMANDS)).to.include("did you mean 'export'?");
    expect(unknownCommand('frobnicate everything', COMMANDS)).to.equal("unknown command 'frobnicate everything'; see gatehouse --help");
    expect(unknownCommand('users', COMMANDS)).to.equal('users needs a subcommand: disable, enable (see gatehouse users --help)');
    // A known group with a subcommand that is nothing like its own: the group's subcommands, not "did you mean 'users'".
    expect(unknownCommand('users frobnicate', COMMANDS)).to.equal("unknown command 'users frobnicate'; users has: disable, enable (see gatehouse users --help)");
    expect(nearest('--redirect-url', ['--redirect-uri', '--name'])).to.equal('--redirect-uri');
    expect(nearest('--zzz', ['--redirect-uri', '--name'])).to.equal(undefined);
  });

  it("suggests the subcommand a word from another tool means (kcadm's get, git's rm, ls), not the nearest spelling", () => {
    // Found by a first-hour walk: `clients show` suggested 'clients list' (4 edits away, as 'get' is).
    expect(unknownCommand('clients show', COMMANDS)).to.equal("unknown command 'clients show' (did you mean 'clients get'?); see gatehouse --help");
    expect(unknownCommand('clients describe', COMMANDS)).to.include("did you mean 'clients get'?");
    expect(unknownCommand('clients ls', COMMANDS)).to.include("did you mean 'clients list'?");
    expect(unknownCommand('clients rm', COMMANDS)).to.include("did you mean 'clients delete'?");
    expect(unknownCommand('clients add', COMMANDS)).to.include("did you mean 'clients create'?");
    expect(unknownCommand('clients edit', COMMANDS)).to.include("did you mean 'clients update'?");
    // Only where the group has that subcommand: users has no get here, so its own are listed.
    expect(unknownCommand('users show', COMMANDS)).to.equal("unknown command 'users show'; users has: disable, enable (see gatehouse users --help)");
  });

  it('says in the help of clients update that a list option given replaces the whole list', async () => {
    let stdout = '';
    const io = { env: {}, stdout: (text: string) => void (stdout += text), stderr: () => undefined, stdin: (async function* () {})() };
    expect(await cli(['clients', 'update', '--help'], io)).to.equal(0);
    expect(stdout.replace(/\s+/gu, ' ')).to.include('a list option given (--redirect-uri, --web-origin, --api, --grant-type, ...) replaces the whole list');
  });

  it('never echoes what was typed verbatim: control characters are escaped, long input is cut, the help hint stays', () => {
    // An escape sequence (terminal colours, cursor moves, a fake second line) must not reach the terminal or a log.
    const sneaky = unknownCommand('clients \u001b[2J\u001b[31mlist\nERROR: all keys deleted\r\u202e', COMMANDS);
    expect(sneaky).to.not.match(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u);
    expect(sneaky).to.equal("unknown command 'clients \\x1b[2J\\x1b[31mlist\\nERROR: all keys deleted\\r\\u202e'; clients has: create, list, get, delete, update (see gatehouse clients --help)");
    const long = unknownCommand(`${'x'.repeat(5000)} y`, COMMANDS);
    expect(long.length).to.be.below(120);
    expect(long).to.equal(`unknown command '${'x'.repeat(60)}…'; see gatehouse --help`);
    // Plain typos read as before, with their suggestion.
    expect(unknownCommand('clients lst', COMMANDS)).to.equal("unknown command 'clients lst' (did you mean 'clients list'?); see gatehouse --help");
    let error: unknown;
    try {
      parseArgs({ args: ['--x\u001b[31m'], options: { name: { type: 'string' } }, strict: true });
    } catch (caught) {
      error = caught;
    }
    expect(unknownOption(error, 'clients create', USAGE)).to.equal('clients create: unknown option --x\\x1b[31m; see gatehouse clients create --help');
  });

  it("turns parseArgs' unknown-option error into one line with the nearest option", () => {
    let error: unknown;
    try {
      // What node:util throws for an option the command does not declare.
      parseArgs({ args: ['--redirect-url', 'x'], options: { 'redirect-uri': { type: 'string' } }, strict: true });
    } catch (caught) {
      error = caught;
    }
    const line = unknownOption(error, 'clients create', USAGE);
    expect(line).to.equal('clients create: unknown option --redirect-url (did you mean --redirect-uri?); see gatehouse clients create --help');
    expect(line).to.not.include('\n');
    expect(unknownOption(new Error('other'), 'clients create', USAGE)).to.equal(undefined);
  });

  it("says that an ID starting with '-' goes after -- (session ids are random and 1 in 64 starts with '-')", () => {
    const args = ['-Xk3fQ9', '--user', 'hana'];
    let error: unknown;
    try {
      parseArgs({ args, options: { user: { type: 'string' } }, allowPositionals: true, strict: true });
    } catch (caught) {
      error = caught;
    }
    const line = unknownOption(error, 'sessions revoke', USAGE, args);
    expect(line).to.equal("sessions revoke: unknown option -X; an ID that starts with '-' goes after --, as in gatehouse sessions revoke [options] -- -Xk3fQ9");
    // A plain unknown short option gets no such hint.
    let other: unknown;
    try {
      parseArgs({ args: ['-q'], options: { user: { type: 'string' } }, allowPositionals: true, strict: true });
    } catch (caught) {
      other = caught;
    }
    expect(unknownOption(other, 'sessions revoke', USAGE, ['-q'])).to.not.include('goes after --');
  });

  it("reads -h and --help only as words of their own: a dashed ID holding an 'h' is not a request for help", async () => {
    // Found by CI: `gatehouse sessions revoke -Xh3… --json` (a random session id) printed the help and exited 0.
    const run = async (...argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const io = { env: { NODE_ENV: 'development', GATEHOUSE_SECRET: 'a development secret of enough length' }, stdout: (text: string) => void (stdout += text), stderr: (text: string) => void (stderr += text), stdin: (async function* () {})() };
      return { code: await cli(argv, io), stdout, stderr };
    };
    for (const id of ['-Xh3abc', '-hello']) {
      const dashed = await run('sessions', 'revoke', id, '--json');
      expect(dashed, id).to.deep.equal({ code: 2, stdout: '', stderr: `gatehouse: sessions revoke: unknown option ${id.slice(0, 2)}; an ID that starts with '-' goes after --, as in gatehouse sessions revoke [options] -- ${id}\n` });
    }
    for (const help of ['-h', '--help']) {
      const asked = await run('sessions', 'revoke', help);
      expect(asked.code).to.equal(0);
      expect(asked.stdout).to.match(/^usage: gatehouse sessions revoke/u);
    }
    // After `--` nothing is an option, -h included.
    expect((await run('sessions', 'revoke', '--', '-h')).stdout).to.not.match(/^usage:/u);
  });

  it('takes `gatehouse help [COMMAND]` as git and kubectl do: the same answer as `gatehouse [COMMAND] --help`', async () => {
    const run = async (...argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const io = { env: { NODE_ENV: 'development', GATEHOUSE_SECRET: 'a development secret of enough length' }, stdout: (text: string) => void (stdout += text), stderr: (text: string) => void (stderr += text), stdin: (async function* () {})() };
      return { code: await cli(argv, io), stdout, stderr };
    };
    for (const topic of [[], ['users'], ['users', 'create'], ['export']]) {
      const asked = await run('help', ...topic);
      expect(asked, topic.join(' ')).to.deep.equal(await run(...topic, '--help'));
      expect(asked.code).to.equal(0);
      expect(asked.stdout).to.match(/^usage: gatehouse/u);
    }
    expect((await run('help', 'users', 'create')).stdout).to.include('--username NAME');
    // An unknown topic is answered as an unknown command is, with the nearest one.
    const unknown = await run('help', 'userz');
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.include("unknown command 'userz'");
  });

  it("a command's help ends with its examples from the usage text's examples block; a group's with all of the group's", () => {
    const usage = `${USAGE}\n\nexamples:\n  gatehouse clients create --name Web --first-party\n  gatehouse clients list\n  printf x | gatehouse users disable bob\n  gatehouse exporter thing`;
    expect(commandHelp(usage, 'clients create')).to.match(/\n\nexamples:\n {2}gatehouse clients create --name Web --first-party$/u);
    expect(commandHelp(usage, 'clients')!.split('examples:\n')[1]).to.equal('  gatehouse clients create --name Web --first-party\n  gatehouse clients list');
    expect(commandHelp(usage, 'users disable')).to.include('printf x | gatehouse users disable bob');
    // `export` is not `exporter`; no example, no examples heading.
    expect(commandHelp(usage, 'export')).to.not.include('examples:');
  });

  it('every example of gatehouse --help runs a command that exists, with options that command takes', async () => {
    let usage = '';
    const code = await cli(['--help'], { env: {}, stdout: (text) => void (usage += text), stderr: () => {}, stdin: (async function* () {})() });
    expect(code).to.equal(0);
    const examples = usage.split('\nexamples:\n')[1]!.trim().split('\n');
    expect(examples.length).to.be.greaterThan(20);
    const groups = new Set<string>();
    for (const example of examples) {
      const words = /gatehouse (.*?)(\s+#.*)?$/u.exec(example)![1]!.split(/\s+/u);
      const single = ['audit', 'export', 'import', 'doctor'].includes(words[0]!);
      const name = single ? words[0]! : `${words[0]} ${words[1]}`;
      groups.add(words[0]!);
      expect(commandHelp(usage, name), example).to.include('examples:').and.include(example.trim());
      const taken = commandOptions(usage, name);
      for (const option of words.filter((word) => word.startsWith('--'))) expect(taken, `${example}: ${option}`).to.include(option);
    }
    // Every group of commands has one at least.
    const commands = usage.split('\ncommands:\n')[1]!.split('\n\n')[0]!;
    for (const group of new Set([...commands.matchAll(/^ {2}([a-z][a-z-]*)/gmu)].map((match) => match[1]!))) expect([...groups], group).to.include(group);
  });
});
