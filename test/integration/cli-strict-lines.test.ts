import { expect } from 'chai';
import { COMMAND_NAMES } from '../../src/cli/cli.ts';
import { runCli } from '../helpers/process.ts';
import { randomSecret } from '../helpers/stores.ts';

/**
 * One valid line per command (the command words, then its arguments and options). Every command
 * of the CLI has one here: a command added without one fails the first test.
 */
const LINES: Readonly<Record<string, readonly string[]>> = {
  'clients create': ['--name', 'App'],
  'clients list': ['--limit', '5'],
  'clients get': ['CLIENT'],
  'clients update': ['CLIENT', '--name', 'App'],
  'clients delete': ['CLIENT'],
  'clients rotate-secret': ['CLIENT'],
  'users create': ['--username', 'ann', '--password-stdin'],
  'users list': ['--query', 'a'],
  'users get': ['ann'],
  'users update': ['ann', '--name', 'Ann'],
  'users set-password': ['ann', '--password-stdin'],
  'users disable': ['ann'],
  'users enable': ['ann'],
  'users unlock': ['ann'],
  'lockouts clear': ['--ip', '203.0.113.7'],
  'users invite': ['ann'],
  'users mfa': ['ann'],
  'users delete': ['ann', '--yes'],
  'apis create': ['--identifier', 'https://api.example.com', '--scope', 'read'],
  'apis list': [],
  'apis get': ['https://api.example.com'],
  'apis update': ['https://api.example.com', '--name', 'API'],
  'apis delete': ['https://api.example.com'],
  'claim-scopes create': ['department', '--map', 'department'],
  'claim-scopes list': [],
  'claim-scopes get': ['department'],
  'claim-scopes update': ['department', '--description', 'Department'],
  'claim-scopes delete': ['department'],
  'roles create': ['admin'],
  'roles list': [],
  'roles delete': ['admin'],
  'roles assign': ['admin', '--user', 'ann'],
  'roles remove': ['admin', '--user', 'ann'],
  'groups create': ['staff'],
  'groups list': [],
  'groups delete': ['staff'],
  'groups assign': ['staff', '--user', 'ann'],
  'groups remove': ['staff', '--user', 'ann'],
  'idps create': ['--alias', 'corp', '--client-id', 'x', '--issuer', 'https://issuer.example.com'],
  'idps list': [],
  'idps get': ['corp'],
  'idps update': ['corp', '--name', 'Corp'],
  'idps delete': ['corp'],
  'idps links': ['ann'],
  'idps unlink': ['ann', '--provider', 'corp', '--subject', 's'],
  'sessions list': ['--user', 'ann'],
  'sessions revoke': ['SESSION', '--user', 'ann'],
  'consents list': ['--user', 'ann'],
  'consents revoke': ['CLIENT', '--user', 'ann'],
  audit: ['--limit', '5'],
  'keys list': [],
  'keys rotate': [],
  'grants revoke': ['--user', 'ann'],
  'caches flush': [],
  'settings get': ['sign-in'],
  'settings set': ['otp_digits=8'],
  export: ['--output', '/nonexistent/never-written.json', '--unencrypted'],
  import: ['--input', '/nonexistent/never-read.json'],
  doctor: ['https://sso.example.com'],
};

/** Commands that take any number of arguments. */
const ANY_NUMBER = new Set(['settings set']);

describe('gatehouse refuses an unknown option or a stray argument on every command, before it opens a store', function () {
  this.timeout(120_000);
  // A database no command may reach: a command that opened it would fail otherwise (or hang until
  // its timeout), not with the usage error.
  const env = { NODE_ENV: 'test', MONGODB_URI: 'mongodb://127.0.0.1:9/never-contacted', GATEHOUSE_MONGODB_TIMEOUT: '1', GATEHOUSE_SECRET: randomSecret(), GATEHOUSE_ISSUER: 'https://sso.example.com' };

  /** The lines among `cases` not refused with their expected line and exit 2: every one is named, not only the first. */
  const notRefused = async (cases: ReadonlyArray<[string[], string]>) => {
    const wrong: string[] = [];
    for (const [args, line] of cases) {
      const result = await runCli(args, env, 'a long enough password');
      if (result.code !== 2 || result.stderr !== `gatehouse: ${line}\n` || result.stdout !== '') wrong.push(`${args.join(' ')} → exit ${result.code}: ${result.stderr.trim()}${result.stdout.trim()}`);
    }
    return wrong;
  };

  it('every command has a line here', () => {
    expect(Object.keys(LINES).sort()).to.deep.equal([...COMMAND_NAMES].sort());
  });

  it('an unknown option: one line naming it and the help, exit 2 (keys rotate --dry-run rotates nothing)', async () => {
    const cases = Object.entries(LINES).map(([name, line]): [string[], string] => [[...name.split(' '), ...line, '--zzzzzz'], `${name}: unknown option --zzzzzz; see gatehouse ${name} --help`]);
    expect(
      await notRefused([
        ...cases,
        [['keys', 'rotate', '--dry-run'], 'keys rotate: unknown option --dry-run; see gatehouse keys rotate --help'],
        // An option of the group that this command does not take is unknown to it too.
        [['users', 'update', 'ann', '--role', 'admin'], 'users update: unknown option --role; see gatehouse users update --help'],
        [['users', 'get', 'ann', '--reset'], 'users get: unknown option --reset; see gatehouse users get --help'],
      ]),
    ).to.deep.equal([]);
  });

  it('a stray argument: one line naming it, exit 2', async () => {
    const cases = Object.entries(LINES)
      .filter(([name]) => !ANY_NUMBER.has(name))
      .map(([name, line]): [string[], string] => [[...name.split(' '), ...line, 'stray'], `${name}: unexpected argument 'stray'; see gatehouse ${name} --help`]);
    expect(
      await notRefused([
        ...cases,
        // After `--` too; and an argument an option gave already (--identifier) is not taken twice.
        [['keys', 'rotate', '--', 'now'], "keys rotate: unexpected argument 'now'; see gatehouse keys rotate --help"],
        [['apis', 'get', '--identifier', 'https://api.example.com', 'https://other.example.com'], "apis get: unexpected argument 'https://other.example.com'; see gatehouse apis get --help"],
      ]),
    ).to.deep.equal([]);
  });
});
