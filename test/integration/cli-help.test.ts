import { expect } from 'chai';
import { runCli, spawnCli } from '../helpers/process.ts';
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
    expect(dash.stderr).to.match(/^gatehouse: Option '--limit' argument is ambiguous\. Did you forget [^\n\\]*'--limit=-XYZ'\.\n$/);
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
