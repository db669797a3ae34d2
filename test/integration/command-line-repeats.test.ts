import { expect } from 'chai';
import { CliError } from '../../src/cli/cli-error.ts';
import { parseLine } from '../../src/cli/command-line.ts';
import { runCli } from '../helpers/process.ts';
import { randomSecret } from '../helpers/stores.ts';

describe('a command line names each single-valued option once (src/cli/command-line.ts)', function () {
  this.timeout(60_000);
  // A database no command may reach: the line is refused before anything is opened or read.
  const env = { NODE_ENV: 'test', MONGODB_URI: 'mongodb://127.0.0.1:9/never-contacted', GATEHOUSE_MONGODB_TIMEOUT: '1', GATEHOUSE_SECRET: randomSecret(), GATEHOUSE_ISSUER: 'https://sso.example.com' };

  const refused = async (args: string[], line: string) => {
    const result = await runCli(args, env, 'a long enough password');
    expect({ code: result.code, stderr: result.stderr, stdout: result.stdout }, args.join(' ')).to.deep.equal({ code: 2, stderr: `gatehouse: ${line}\n`, stdout: '' });
  };

  it('a single-valued option given twice is refused, naming it, exit 2 (found by qa18: the last one won)', async () => {
    await refused(['clients', 'create', '--name', 'App', '--type', 'public', '--type', 'confidential'], 'clients create: --type given more than once (it takes one value); see gatehouse clients create --help');
    await refused(['clients', 'update', 'CLIENT', '--name=A', '--name', 'B'], 'clients update: --name given more than once (it takes one value); see gatehouse clients update --help');
    await refused(['users', 'list', '--role', 'admin', '--role', 'staff'], 'users list: --role given more than once (it takes one value); see gatehouse users list --help');
    await refused(['export', '--output', 'a.json', '--output', 'b.json', '--unencrypted'], 'export: --output given more than once (it takes one value); see gatehouse export --help');
    await refused(['keys', 'list', '--json', '--json'], 'keys list: --json given more than once (it takes one value); see gatehouse keys list --help');
    // A switch and its negation (allowNegative): which one was meant is not guessed either.
    await refused(['users', 'update', 'ann', '--email-verified', '--no-email-verified'], 'users update: give --email-verified or --no-email-verified, not both; see gatehouse users update --help');
  });

  it('a setting named twice in one settings set is refused, naming it, exit 2', async () => {
    await refused(['settings', 'set', 'password_min_length=8', 'password_min_length=12'], 'settings set: password_min_length named more than once; see gatehouse settings set --help');
    await refused(['settings', 'set', 'password-min-length=8', 'lockout_threshold=5', 'password_min_length=12'], 'settings set: password_min_length named more than once; see gatehouse settings set --help');
  });

  it('idps --claim names each attribute once: the same attribute twice is refused, naming it (the last one won)', async () => {
    const base = ['idps', 'create', '--alias', 'corp', '--client-id', 'x', '--issuer', 'https://issuer.example.com', '--client-secret-stdin'];
    await refused([...base, '--claim', 'username=login', '--claim', 'username=preferred_username'], "--claim username: given more than once (one claim per attribute)");
    await refused(['idps', 'update', 'corp', '--claim', 'email=mail', '--claim', 'email=upn'], "--claim email: given more than once (one claim per attribute)");
  });

  it('options declared as lists still repeat', () => {
    const line = { options: { 'redirect-uri': { type: 'string', multiple: true }, name: { type: 'string' } } } as const;
    const parsed = parseLine('clients create', line, ['--name', 'A', '--redirect-uri', 'https://a.example.com/cb', '--redirect-uri=https://b.example.com/cb']);
    expect(parsed.values['redirect-uri']).to.deep.equal(['https://a.example.com/cb', 'https://b.example.com/cb']);
    expect(() => parseLine('clients create', line, ['--name', 'A', '--name', 'B'])).to.throw(CliError, '--name given more than once');
    // Different settings in one line are fine.
    expect(parseLine('settings set', { options: {}, arguments: ['NAME=VALUE...'] }, ['a=1', 'b=2']).positionals).to.deep.equal(['a=1', 'b=2']);
  });
});
