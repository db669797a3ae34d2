import { expect } from 'chai';
import { runCli } from '../helpers/process.ts';
import { freePort } from '../helpers/redis-server.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

/** What zod says in its own words; none of it may reach an operator. */
const ZOD_WORDING = /Invalid input|Invalid option|Invalid string|expected \w+, received|received NaN|Too (big|small)|Unrecognized key|Invalid element/i;

describe('gatehouse CLI with bad input: one line naming the field and what it must be, exit 2 (in-process, real stores)', function () {
  this.timeout(120_000);
  const database = databaseForSuite('cli_bad_input');
  let env: Record<string, string>;
  let clientId: string;

  before(async () => {
    env = { NODE_ENV: 'test', MONGODB_URI: database.uri, GATEHOUSE_SECRET: randomSecret(), GATEHOUSE_ISSUER: `http://127.0.0.1:${await freePort()}` };
    const created = await runCli(['clients', 'create', '--name', 'Bad input', '--redirect-uri', 'https://app.example.com/cb', '--json'], env);
    expect(created.code, created.stderr).to.equal(0);
    clientId = (JSON.parse(created.stdout) as { client_id: string }).client_id;
    expect((await runCli(['apis', 'create', '--identifier', 'https://bad-input.example.com', '--scope', 'read', '--json'], env)).code).to.equal(0);
  });

  const refused = async (args: string[], line: string, exitCode = 2, stdin?: string) => {
    const result = await runCli(args, env, stdin);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(exitCode);
    expect(result.stdout).to.equal('');
    expect(result.stderr, args.join(' ')).to.equal(`gatehouse: ${line}\n`);
    expect(result.stderr).to.not.match(ZOD_WORDING);
  };

  it('numbers that are not numbers (NaN) or not whole', async () => {
    await refused(['clients', 'list', '--limit', 'abc'], 'limit: must be a number');
    await refused(['clients', 'list', '--offset=-1'], 'offset: must be at least 0');
    await refused(['users', 'list', '--limit', '1.5'], 'limit: must be a whole number');
    await refused(['audit', '--limit', 'lots'], 'limit: must be a number');
    await refused(['settings', 'set', 'lockout_window=soon'], 'lockout_window: must be a number');
    await refused(['settings', 'set', 'password_min_length=0'], 'password_min_length: must be at least 8');
  });

  it('values of the wrong kind: not one of the choices, not a URL, not a date', async () => {
    await refused(['apis', 'create', '--identifier', 'https://other.example.com', '--scope', 'read', '--format', 'xml'], 'format: must be one of jwt, opaque');
    await refused(['settings', 'set', 'otp_digits=7'], 'otp_digits: must be one of 6, 8');
    await refused(['settings', 'set', 'require_verified_email=sometimes'], 'require_verified_email: must be one of off, self-registered, all');
    await refused(['clients', 'create', '--name', 'X', '--redirect-uri', 'javascript:alert(1)'], 'redirect_uris.0: must be an absolute URI without a fragment (javascript:, data:, file: and the like are refused)');
    await refused(['audit', '--from', 'yesterday'], 'from: must be a date and time such as 2026-01-31T09:00:00Z');
    await refused(['audit', '--type', 'no.such_event'], 'type: unknown event type (see the README for the list)');
    await refused(['users', 'create', '--username', 'ann', '--birthdate', '31.01.1990', '--password-stdin'], 'birthdate: must be YYYY-MM-DD, 0000-MM-DD or YYYY', 2, 'a long enough password');
  });

  it('text too long, empty or with spaces', async () => {
    await refused(['clients', 'create', '--name', 'x'.repeat(201)], 'name: must be at most 200 characters');
    await refused(['clients', 'update', clientId, '--name', ' '], 'name: must not be empty');
    await refused(['roles', 'create', 'r'.repeat(129)], 'name: must be at most 128 characters');
    await refused(['groups', 'create', 'two words'], 'name: no spaces');
  });

  it('unknown fields', async () => {
    await refused(['clients', 'update', clientId, '--unset', 'no_such_field'], 'no_such_field: unknown field');
  });

  it('names that match nothing (exit 1, not a usage error)', async () => {
    await refused(['clients', 'get', 'no-such-client'], 'client no-such-client does not exist', 1);
    await refused(['apis', 'delete', 'https://no-such-api.example.com'], 'API https://no-such-api.example.com does not exist', 1);
    await refused(['roles', 'delete', 'no-such-role'], 'role no-such-role does not exist', 1);
  });
});
