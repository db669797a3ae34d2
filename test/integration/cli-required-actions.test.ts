import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { instanceWithCliEnv } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

const PASSWORD = 'a long enough passphrase';

describe('gatehouse CLI: required actions and temporary passwords (in-process, real stores)', function () {
  this.timeout(120_000);
  const database = databaseForSuite('cli_reqact');
  const secret = randomSecret();
  let gatehouse: RunningGatehouse;
  let env: Record<string, string>;

  before(async () => {
    ({ gatehouse, env } = await instanceWithCliEnv(database.uri, secret));
  });
  after(async () => {
    await gatehouse?.close();
  });

  const shown = async (user: string) => JSON.parse((await runCli(['users', 'get', user, '--json'], env)).stdout) as { required_actions: string[] };

  it('users create|update --require-action (repeatable; update replaces, --clear-required-actions removes) and set-password --temporary', async () => {
    const created = await runCli(['users', 'create', '--username', 'erin', '--require-action', 'update_profile', '--require-action', 'verify_email', '--password-stdin', '--json'], env, PASSWORD);
    expect(created.code, created.stderr).to.equal(0);
    expect((await shown('erin')).required_actions).to.deep.equal(['verify_email', 'update_profile']);

    const bad = await runCli(['users', 'update', 'erin', '--require-action', 'configure_totp', '--require-action', 'TERMS', '--json'], env);
    expect(bad.code, bad.stderr).to.equal(2);
    expect(bad.stderr).to.contain("--require-action 'TERMS'").and.contain('"TERMS" is not a required action');
    expect((await shown('erin')).required_actions, 'unchanged').to.deep.equal(['verify_email', 'update_profile']);

    expect((await runCli(['users', 'update', 'erin', '--require-action', 'configure_totp', '--json'], env)).code).to.equal(0);
    expect((await shown('erin')).required_actions).to.deep.equal(['configure_totp']);

    const temporary = await runCli(['users', 'set-password', 'erin', '--password-stdin', '--temporary', '--json'], env, `${PASSWORD} 2`);
    expect(temporary.code, temporary.stderr).to.equal(0);
    expect(JSON.parse(temporary.stdout)).to.include({ password_set: true, temporary: true });
    expect((await shown('erin')).required_actions).to.deep.equal(['update_password', 'configure_totp']);

    const cleared = await runCli(['users', 'update', 'erin', '--clear-required-actions', '--json'], env);
    expect(cleared.code, cleared.stderr).to.equal(0);
    expect(JSON.parse(cleared.stdout).required_actions).to.deep.equal([]);
    const both = await runCli(['users', 'update', 'erin', '--clear-required-actions', '--require-action', 'verify_email'], env);
    expect(both.code).to.equal(2);
  });
});
