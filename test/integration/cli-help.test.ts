import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { childEnv, CLI, runCli, spawnCli } from '../helpers/process.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

describe('gatehouse <command> --help and mistakes', function () {
  // The real binary once per exit status (0 and 2); the other commands run in this process
  // (runCli: what the binary runs, minus a Node start — seconds apiece on a busy 2-core machine).
  this.timeout(120_000);
  const database = databaseForSuite('cli_help');

  it("--help after a command shows that command's options, without any settings or database", async () => {
    const help = await spawnCli(['clients', 'create', '--help'], {});
    expect(help.code, help.stderr).to.equal(0);
    expect(help.stdout).to.match(/^usage: gatehouse clients create/);
    expect(help.stdout).to.include('--redirect-uri').and.include('--first-party');
    expect(help.stdout).to.not.include('users create');
    const group = await runCli(['users', '--help'], {});
    expect(group.code).to.equal(0);
    expect(group.stdout).to.include('users create').and.include('users set-password').and.not.include('clients create');
    // With examples, as kcadm.sh's help has: how the password goes in, for one.
    expect((await runCli(['users', 'create', '--help'], {})).stdout).to.include(`examples:\n  printf '%s' "$PASSWORD" | gatehouse users create --username alice`);
  });

  it('gatehouse --help says what USER and the other argument words stand for, and every exit code', async () => {
    const help = await runCli(['--help'], {});
    expect(help.code).to.equal(0);
    expect(help.stdout).to.include("USER is a user's id, username or email");
    for (const code of ['0 done', '1 failed', '2 invalid command line', '75 MongoDB or Redis cannot be', '78 invalid configuration']) expect(help.stdout.replace(/\n/gu, ' ')).to.include(code);
  });

  it('an unknown command is one line with the nearest match', async () => {
    const typo = await spawnCli(['clinets', 'lsit'], {});
    expect(typo.code).to.equal(2);
    expect(typo.stderr).to.equal("gatehouse: unknown command 'clinets lsit' (did you mean 'clients list'?); see gatehouse --help\n");
    // What was typed is shown escaped and cut short, never replayed to the terminal as is.
    const sneaky = await runCli(['\u001b]0;pwned\u0007\u001b[31mkeys', 'x'.repeat(200)], {});
    expect(sneaky.code).to.equal(2);
    expect(sneaky.stderr).to.equal("gatehouse: unknown command '\\x1b]0;pwned\\x07\\x1b[31mkeys xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…'; see gatehouse --help\n");
  });

  it('an unknown option is one line with the nearest match', async () => {
    const env = { NODE_ENV: 'test', MONGODB_URI: database.uri, GATEHOUSE_SECRET: randomSecret() };
    const typo = await runCli(['clients', 'create', '--name', 'x', '--redirect-url', 'https://app.example.com/cb'], env);
    expect(typo.code).to.equal(2);
    expect(typo.stderr).to.equal(
      'gatehouse: clients create: unknown option --redirect-url (did you mean --redirect-uri?); see gatehouse clients create --help\n',
    );
    // Node's own multi-line advice reads as one line of sentences, not with literal "\n"s in it.
    const dash = await runCli(['clients', 'list', '--limit', '-1'], env);
    expect(dash.code).to.equal(2);
    // Node's own words were: "Option '--limit' argument is ambiguous. Did you forget … '--limit=-XYZ'."
    expect(dash.stderr).to.equal("gatehouse: clients list: --limit needs a value; one that starts with '-' goes as --limit=-1; see gatehouse clients list --help\n");
  });

  it("an option's missing or unwanted value is one line naming the command and the option, as an unknown option is (not node:util's English)", async () => {
    // Before: "Option '--limit <value>' argument missing", "Option '--reset' does not take an argument".
    const missing = await runCli(['audit', '--limit'], {});
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.equal('gatehouse: audit: --limit needs a value; see gatehouse audit --help\n');
    const unwanted = await runCli(['users', 'mfa', 'alice', '--reset=yes'], {});
    expect(unwanted.code).to.equal(2);
    expect(unwanted.stderr).to.equal('gatehouse: users mfa: --reset takes no value; see gatehouse users mfa --help\n');
    const json = await runCli(['users', 'list', '--json=1'], {});
    expect(json.code).to.equal(2);
    expect(json.stderr).to.equal('gatehouse: users list: --json takes no value; see gatehouse users list --help\n');
  });

  it('gatehouse --version prints the version; another option without a command is one line, exit 2', async () => {
    const version = await runCli(['--version'], {});
    expect(version.code, version.stderr).to.equal(0);
    expect(version.stdout).to.match(/^gatehouse \d+\.\d+\.\d+\n$/);
    // Before: the whole usage text on stderr, for --version too.
    const bogus = await runCli(['--bogus'], {});
    expect(bogus.code).to.equal(2);
    expect(bogus.stderr).to.equal('gatehouse: unknown option --bogus; see gatehouse --help\n');
  });

  it('a missing argument is said from the line, before the settings are read or a store is opened: exit 2, not the outage', async () => {
    // No settings at all, and a MongoDB where nothing listens: the line's own mistake is what is said.
    const env = { NODE_ENV: 'test', MONGODB_URI: 'mongodb://127.0.0.1:1/none', GATEHOUSE_MONGODB_TIMEOUT: '1', GATEHOUSE_SECRET: randomSecret() };
    const cases: Array<[string[], string]> = [
      [['clients', 'get'], 'clients get: CLIENT_ID is required; see gatehouse clients get --help'],
      [['clients', 'rotate-secret', '--json'], 'clients rotate-secret: CLIENT_ID is required; see gatehouse clients rotate-secret --help'],
      [['users', 'get'], 'users get: USER is required; see gatehouse users get --help'],
      // Before: "nothing to change: pass at least one profile option".
      [['users', 'update'], 'users update: USER is required; see gatehouse users update --help'],
      [['users', 'mfa', '--reset'], 'users mfa: USER is required; see gatehouse users mfa --help'],
      [['roles', 'assign', '--user', 'ann'], 'roles assign: NAME is required; see gatehouse roles assign --help'],
      [['apis', 'delete'], 'apis delete: IDENTIFIER is required (or --identifier IDENTIFIER); see gatehouse apis delete --help'],
      [['idps', 'get'], 'idps get: ALIAS is required (or --alias ALIAS); see gatehouse idps get --help'],
      [['sessions', 'list'], 'sessions list: USER is required (or --user USER); see gatehouse sessions list --help'],
      [['sessions', 'revoke', '--user', 'ann'], 'sessions revoke: SESSION_ID is required; see gatehouse sessions revoke --help'],
    ];
    for (const [args, line] of cases) {
      for (const given of [{}, env]) {
        const result = await runCli(args, given);
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(2);
        expect(result.stderr).to.equal(`gatehouse: ${line}\n`);
      }
    }
  });

  it('output read by a reader that stops early (gatehouse … | head) ends the command as it would have ended: no EPIPE stack trace', async () => {
    const child = spawn(process.execPath, [CLI, '--help'], { env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader is gone before the command writes anything (it has not even started).
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    // Before: "Error: write EPIPE … at Object.stdout (src/cli/io.ts…)", exit 1.
    expect(stderr).to.equal('');
    expect(code).to.equal(0);
  });

  it('a hint names help that exists', async () => {
    const env = { NODE_ENV: 'test', MONGODB_URI: database.uri, GATEHOUSE_SECRET: randomSecret() };
    const nothing = await runCli(['users', 'update', 'ann'], env);
    expect(nothing.code).to.equal(2);
    const hint = /\(see (gatehouse [^)]+)\)/.exec(nothing.stderr)?.[1];
    expect(hint, nothing.stderr).to.equal('gatehouse users update --help');
    const shown = await runCli(hint!.split(' ').slice(1), {});
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout).to.include('users update USER');
  });
});
