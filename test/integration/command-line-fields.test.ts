import { expect } from 'chai';
import { CLIENT_FLAGS } from '../../src/cli/commands/clients.ts';
import { inFlags } from '../../src/cli/flag-errors.ts';
import { ConflictError } from '../../src/errors/gatehouse-error.ts';
import { runCli } from '../helpers/process.ts';
import { freePort } from '../helpers/redis-server.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

/**
 * Field and setting names typed on a command line (`--unset NAME`, `settings set NAME=VALUE`,
 * `settings get GROUP`) are looked up as names, never as properties every object has
 * (`__proto__`, `constructor`, `prototype`, `toString`): qa18 found `clients update ID --unset
 * __proto__` answering "body: name at least one field to change".
 */
describe('gatehouse CLI: field and setting names that are properties of every object are unknown names', function () {
  this.timeout(120_000);
  const database = databaseForSuite('cli_field_names');
  let env: Record<string, string>;
  let clientId: string;

  before(async () => {
    env = { NODE_ENV: 'test', MONGODB_URI: database.uri, GATEHOUSE_SECRET: randomSecret(), GATEHOUSE_ISSUER: `http://127.0.0.1:${await freePort()}` };
    const created = await runCli(['clients', 'create', '--name', 'Field names', '--redirect-uri', 'https://app.example.com/cb', '--json'], env);
    expect(created.code, created.stderr).to.equal(0);
    clientId = (JSON.parse(created.stdout) as { client_id: string }).client_id;
  });

  const refused = async (args: string[], line: RegExp) => {
    const result = await runCli(args, env);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(2);
    expect(result.stdout).to.equal('');
    expect(result.stderr, args.join(' ')).to.match(line);
  };

  it('clients update --unset: a name that is not a field that can be unset is refused, naming the ones that can', async () => {
    for (const name of ['__proto__', 'constructor', 'prototype', 'toString', 'no_such_field']) {
      await refused(['clients', 'update', clientId, '--unset', name], new RegExp(`^gatehouse: --unset ${name}: not a field that can be unset \\(one of [a-z_, ]*\\blogo_uri\\b[a-z_, ]*\\)\\n$`));
    }
    // A field that is required cannot be unset either; one that can still is.
    await refused(['clients', 'update', clientId, '--unset', 'name'], /^gatehouse: --unset name: not a field that can be unset \(one of /);
    const unset = await runCli(['clients', 'update', clientId, '--unset', 'logo-uri', '--json'], env);
    expect(unset.code, unset.stderr).to.equal(0);
  });

  it('settings set and settings get: such names are unknown settings and groups', async () => {
    for (const name of ['__proto__', 'constructor', 'prototype', 'hasOwnProperty']) {
      await refused(['settings', 'set', `${name}=1`], new RegExp(`^gatehouse: settings set: unknown setting '${name}' \\(one of [a-z_, ]*\\bpassword_min_length\\b[a-z_, ]*\\)\\n$`));
      await refused(['settings', 'get', name], new RegExp(`^gatehouse: settings get: unknown group '${name}' \\(one of [a-z-, ]+\\)\\n$`));
    }
  });
});

/**
 * What a message quotes of the input (an id that matches nothing, an unknown setting or group)
 * is shown as src/cli/help.ts' `typed` shows it: control characters escaped (one line, nothing
 * that drives the terminal), a long value cut with an ellipsis and its length (qa18: `clients get
 * $'a\nb'` printed two lines, a 100,000-character id was echoed whole).
 */
describe('gatehouse CLI: messages that quote input show it escaped and cut', function () {
  this.timeout(120_000);
  const database = databaseForSuite('cli_quoted_input');
  let env: Record<string, string>;
  const long = 'x'.repeat(100_000);
  const cut = `${'x'.repeat(60)}… (100000 characters)`;

  before(async () => {
    env = { NODE_ENV: 'test', MONGODB_URI: database.uri, GATEHOUSE_SECRET: randomSecret(), GATEHOUSE_ISSUER: `http://127.0.0.1:${await freePort()}` };
  });

  const said = async (args: string[], exitCode: number, line: string) => {
    const result = await runCli(args, env);
    expect({ code: result.code, stderr: result.stderr, stdout: result.stdout }, args.join(' ').slice(0, 200)).to.deep.equal({ code: exitCode, stderr: `gatehouse: ${line}\n`, stdout: '' });
  };

  it('an id that matches nothing', async () => {
    await said(['clients', 'get', 'a\nb'], 1, 'client a\\nb does not exist');
    await said(['clients', 'get', 'evil\x1b]0;pwned\x07'], 1, 'client evil\\x1b]0;pwned\\x07 does not exist');
    await said(['clients', 'delete', long], 1, `client ${cut} does not exist`);
    await said(['users', 'get', `a\u202eb`], 1, 'user a\\u202eb does not exist');
    await said(['roles', 'delete', long], 1, `role ${cut} does not exist`);
  });

  it('an unknown setting or group, a malformed NAME=VALUE', async () => {
    await said(['settings', 'set', 'no\x1b[2Jsuch=1'], 2, `settings set: unknown setting 'no\\x1b[2Jsuch' (one of ${await settingNames()})`);
    await said(['settings', 'set', `${long}=1`], 2, `settings set: unknown setting '${'x'.repeat(60)}…' (100000 characters) (one of ${await settingNames()})`);
    await said(['settings', 'get', 'sign\nin'], 2, "settings get: unknown group 'sign\\nin' (one of sign-in, password-policy, brute-force, mfa, otp)");
    await said(['settings', 'set', `novalue\r${long}`], 2, `settings set: expected NAME=VALUE, got 'novalue\\r${'x'.repeat(52)}…' (100008 characters)`);
  });

  it("a field's problem that quotes input (a conflict) says it the same way", () => {
    const said = inFlags(new ConflictError('client_exists', { client_id: `a\nb${'y'.repeat(70)}` }, 'client_id'), CLIENT_FLAGS, ['--client-id', 'whatever']);
    expect((said as Error).message).to.equal(`--client-id: a client with id a\\nb${'y'.repeat(57)}… (73 characters) already exists`);
  });

  /** The settings' names as `settings get --json` lists them. */
  async function settingNames(): Promise<string> {
    const result = await runCli(['settings', 'get', '--json'], env);
    return Object.keys((JSON.parse(result.stdout) as { settings: Record<string, unknown> }).settings).join(', ');
  }
});
