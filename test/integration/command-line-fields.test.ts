import { expect } from 'chai';
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
