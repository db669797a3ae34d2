import { expect } from 'chai';
import { runCli } from '../helpers/process.ts';
import { freePort } from '../helpers/redis-server.ts';
import { databaseForSuite, freshDatabaseUri, randomSecret } from '../helpers/stores.ts';

/** What zod says in its own words; none of it may reach an operator. */
const ZOD_WORDING = /Invalid input|Invalid option|Invalid string|expected \w+, received|received NaN|Too (big|small)|Unrecognized key|Invalid element/i;

describe('gatehouse CLI with bad input: one line naming the flag (as typed) and what it must be, exit 2 (in-process, real stores)', function () {
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
    await refused(['clients', 'list', '--limit', 'abc'], '--limit: must be a number');
    await refused(['clients', 'list', '--offset=-1'], '--offset: must be at least 0');
    await refused(['users', 'list', '--limit', '1.5'], '--limit: must be a whole number');
    await refused(['audit', '--limit', 'lots'], '--limit: must be a number');
    // Settings are named as typed (NAME=VALUE): no flag stands for them.
    await refused(['settings', 'set', 'lockout_window=soon'], 'lockout_window: must be a number');
    await refused(['settings', 'set', 'password_min_length=0'], 'password_min_length: must be at least 8');
  });

  it('values of the wrong kind: not one of the choices, not a URL, not a date', async () => {
    await refused(['apis', 'create', '--identifier', 'https://other.example.com', '--scope', 'read', '--format', 'xml'], '--format: must be one of jwt, opaque');
    await refused(['settings', 'set', 'otp_digits=7'], 'otp_digits: must be one of 6, 8');
    await refused(['settings', 'set', 'require_verified_email=sometimes'], 'require_verified_email: must be one of off, self-registered, all');
    await refused(['clients', 'create', '--name', 'X', '--redirect-uri', 'javascript:alert(1)'], "--redirect-uri 'javascript:alert(1)': must be an absolute URI without a fragment (javascript:, data:, file: and the like are refused)");
    await refused(['audit', '--from', 'yesterday'], '--from: must be a date and time such as 2026-01-31T09:00:00Z');
    await refused(['audit', '--type', 'no.such_event'], '--type: unknown event type (see the README for the list)');
    await refused(['users', 'create', '--username', 'ann', '--birthdate', '31.01.1990', '--password-stdin'], '--birthdate: must be YYYY-MM-DD, 0000-MM-DD or YYYY', 2, 'a long enough password');
  });

  it('text too long, empty or with spaces', async () => {
    await refused(['clients', 'create', '--name', 'x'.repeat(201)], '--name: must be at most 200 characters');
    await refused(['clients', 'update', clientId, '--name', ' '], '--name: must not be empty');
    await refused(['roles', 'create', 'r'.repeat(129)], 'NAME: must be at most 128 characters');
    await refused(['groups', 'create', 'two  spaces'], 'NAME: may hold single spaces between words, but no tabs, line breaks, other spaces or two spaces in a row');
  });

  it('unknown fields', async () => {
    // The list of fields grows with every client setting that can be unset: the line's shape and
    // its members are checked, not one frozen copy of the list (a new field broke that copy twice).
    const result = await runCli(['clients', 'update', clientId, '--unset', 'no_such_field'], env);
    expect(result.code, result.stderr).to.equal(2);
    expect(result.stdout).to.equal('');
    const line = /^gatehouse: --unset no_such_field: not a field that can be unset \(one of ([a-z_, ]+)\)\n$/.exec(result.stderr);
    expect(line, result.stderr).to.not.equal(null);
    const fields = line![1]!.split(', ');
    expect(fields).to.include.members(['scope', 'default_scopes', 'service_account_roles', 'token_claims', 'userinfo_signed_response_alg']);
    for (const fixed of ['client_id', 'redirect_uris', 'client_name', 'grant_types']) expect(fields).to.not.include(fixed);
    expect(new Set(fields).size).to.equal(fields.length);
  });

  it("a field is named by the flag that set it, never by the admin API's name (one value of several as typed)", async () => {
    // The second of two --redirect-uri values, as typed (escaped: it cannot drive the terminal).
    await refused(['clients', 'create', '--name', 'X', '--redirect-uri', 'https://app.example.com/cb', '--redirect-uri', 'myapp:/cb\x1b[31m'], "--redirect-uri 'myapp:/cb\\x1b[31m': must be an absolute http(s) URI without a fragment (custom schemes are for application_type native)");
    await refused(['clients', 'create', '--name', 'X', '--post-logout-redirect-uri=data:text/html,x'], "--post-logout-redirect-uri 'data:text/html,x': must be an absolute URI without a fragment (javascript:, data:, file: and the like are refused)");
    await refused(['clients', 'create', '--name', 'X', '--grant-type', 'password'], "--grant-type 'password': must be one of authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:device_code");
    await refused(['clients', 'create', '--name', 'X', '--api', 'https://nowhere.example.com'], "--api 'https://nowhere.example.com': no API with identifier https://nowhere.example.com");
    await refused(['clients', 'create', '--name', 'X', '--type', 'public', '--auth-method', 'client_secret_basic'], '--auth-method: a public client uses none');
    await refused(['clients', 'create', '--name', 'X', '--web-origin', 'https://app.example.com/path'], "--web-origin 'https://app.example.com/path': must be an origin such as https://app.example.com");
    await refused(['clients', 'update', clientId, '--no-first-party', '--allow-password-grant'], '--allow-password-grant: is for first-party clients only (set first_party: true)');
    await refused(['clients', 'create', '--name', 'X', '--client-id', clientId], `--client-id: a client with id ${clientId} already exists`, 1);
    // APIs: the words of --scope, --ttl's seconds, --introspection-client.
    await refused(['apis', 'create', '--identifier', 'https://other.example.com', '--scope', 'read wr"ite'], "--scope 'wr\"ite': scope names are printable ASCII without spaces or quotes");
    await refused(['apis', 'create', '--identifier', 'not a uri', '--scope', 'read'], '--identifier: must be an absolute URI without a fragment, e.g. https://api.example.com');
    // Users: profile options, roles, the password read from standard input.
    await refused(['users', 'create', '--username', 'bea', '--email', 'not-an-email', '--password-stdin'], '--email: must be an email address', 2, 'a long enough password');
    await refused(['users', 'create', '--username', 'bea', '--zoneinfo', 'Mars/Olympus', '--password-stdin'], '--zoneinfo: must be an IANA time zone such as Europe/Paris', 2, 'a long enough password');
    await refused(['users', 'create', '--username', 'bea', '--address-postal-code', 'x'.repeat(40), '--password-stdin'], '--address-postal-code: must be at most 32 characters', 2, 'a long enough password');
    await refused(['users', 'create', '--username', 'bea', '--role', 'ok', '--role', ' ', '--password-stdin'], "--role ' ': must not be empty", 2, 'a long enough password');
    await refused(['users', 'create', '--username', 'bea', '--password-stdin'], '--password-stdin: must be at least 8 characters', 2, 'short');
    await refused(['users', 'create', '--username', 'b e a', '--password-stdin'], '--username: must be 1-64 letters, digits, ".", "_" or "-"', 2, 'a long enough password');
    // Upstream providers.
    await refused(['idps', 'create', '--alias', 'Bad Alias', '--client-id', 'x', '--issuer', 'https://issuer.example.com'], '--alias: lowercase letters, digits and dashes (it becomes part of the callback URL)');
    await refused(['idps', 'create', '--alias', 'corp', '--client-id', 'x', '--issuer', 'http://issuer.example.com'], '--issuer: must be an https URL without a fragment (http only for localhost)');
  });

  it("a file it cannot read: the path quoted and escaped, and why in words — never Node's own message", async () => {
    const missing = '/nowhere/\x1b[2Jrealm.json';
    const shownMissing = "'/nowhere/\\x1b[2Jrealm.json'";
    await refused(['import', '--keycloak', missing, '--dry-run'], `${shownMissing}: cannot read a realm export (no such file or directory)`);
    await refused(['import', '--input', missing, '--dry-run'], `${shownMissing}: cannot read a JSON export (no such file or directory)`);
    await refused(['clients', 'update', clientId, '--jwks-file', missing], `--jwks-file ${shownMissing}: cannot read it (no such file or directory)`);
    await refused(['import', '--input', '/tmp', '--dry-run'], "'/tmp': cannot read a JSON export (a directory, not a file)");
  });

  it('names that match nothing (exit 1, not a usage error)', async () => {
    await refused(['clients', 'get', 'no-such-client'], 'client no-such-client does not exist', 1);
    await refused(['apis', 'delete', 'https://no-such-api.example.com'], 'API https://no-such-api.example.com does not exist', 1);
    await refused(['roles', 'delete', 'no-such-role'], 'role no-such-role does not exist', 1);
  });
});

describe('gatehouse CLI with a bad configuration: exit 78, each problem one line naming the setting', () => {
  it("shows a setting's value (a file path) quoted, escaped and cut: it cannot drive the terminal, forge a line or flood it", async () => {
    const env = { NODE_ENV: 'test', GATEHOUSE_SECRET: randomSecret(), MONGODB_URI: 'mongodb://127.0.0.1:1/unused' };
    const escaped = await runCli(['users', 'list'], { ...env, GATEHOUSE_CONFIG: '/nowhere/\x1b[2J\ngatehouse: forged.json' });
    expect(escaped.code).to.equal(78);
    expect(escaped.stderr).to.equal("gatehouse: GATEHOUSE_CONFIG: file '/nowhere/\\x1b[2J\\ngatehouse: forged.json' cannot be read\n");
    const long = await runCli(['users', 'list'], { ...env, GATEHOUSE_SECRET: '', GATEHOUSE_SECRET_FILE: `/nowhere/${'z'.repeat(100_000)}` });
    expect(long.code).to.equal(78);
    // The secret it could not read is then missing too: a second line.
    expect(long.stderr).to.equal(`gatehouse: GATEHOUSE_SECRET_FILE: cannot read '/nowhere/${'z'.repeat(51)}…' (100009 characters)\ngatehouse: GATEHOUSE_SECRET: is required\n`);
  });

  it('a runtime setting the admin API would refuse (a default role with two spaces in a row), before any store is reached', async () => {
    const env = { NODE_ENV: 'test', GATEHOUSE_SECRET: randomSecret(), MONGODB_URI: 'mongodb://127.0.0.1:1/unused', GATEHOUSE_DEFAULT_ROLES: 'viewer,Order  Manager' };
    const exit = await runCli(['users', 'list'], env);
    expect(exit.code).to.equal(78);
    expect(exit.stderr).to.equal('gatehouse: GATEHOUSE_DEFAULT_ROLES: "Order  Manager": may hold single spaces between words, but no tabs, line breaks, other spaces or two spaces in a row\n');
  });
});

describe('gatehouse CLI when a store cannot be reached: exit 75 (retry later), naming the setting', function () {
  this.timeout(60_000);

  it('MONGODB_URI or REDIS_URL where nothing listens', async () => {
    const secret = randomSecret();
    const nowhere = await freePort();
    const mongo = await runCli(['users', 'list'], { NODE_ENV: 'test', GATEHOUSE_SECRET: secret, MONGODB_URI: `mongodb://127.0.0.1:${nowhere}/gatehouse`, GATEHOUSE_MONGODB_TIMEOUT: '1' });
    // Before: "the service is temporarily unavailable, try again shortly" — which service, reached how?
    expect(mongo.code, mongo.stderr).to.equal(75);
    expect(mongo.stderr).to.match(/^gatehouse: MONGODB_URI: cannot connect to MongoDB \(.*ECONNREFUSED.*\)\n$/);
    const redis = await runCli(['users', 'list'], { NODE_ENV: 'test', GATEHOUSE_SECRET: secret, MONGODB_URI: freshDatabaseUri('cli_no_redis'), REDIS_URL: `redis://127.0.0.1:${nowhere}`, GATEHOUSE_REDIS_TIMEOUT: '1' });
    expect(redis.code, redis.stderr).to.equal(75);
    expect(redis.stderr).to.match(/^gatehouse: REDIS_URL: .*\n$/);
  });
});
