import { expect } from 'chai';
import { startInstance } from '../helpers/instance.ts';
import { spawnCli } from '../helpers/process.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

describe('gatehouse keys list (real binary, real store)', function () {
  // Each command starts a Node process: seconds apiece on a busy 2-core machine.
  this.timeout(120_000);
  const database = databaseForSuite('cli_keys');
  const secret = randomSecret();
  const env = () => ({ NODE_ENV: 'test', MONGODB_URI: database.uri, GATEHOUSE_SECRET: secret });

  it('says so when no keys exist yet, then lists the server\'s keys as JSON', async () => {
    const empty = await spawnCli(['keys', 'list', '--json'], env());
    expect(empty.code).to.equal(1);
    expect(empty.stderr).to.include('no keys yet');

    const gatehouse = await startInstance({ mongodbUri: database.uri, secret });
    const kids = gatehouse.keySet.signingKeys.map((key) => key.kid).sort();
    await gatehouse.close();

    const listed = await spawnCli(['keys', 'list', '--json'], env());
    expect(listed.code, listed.stderr).to.equal(0);
    const body = JSON.parse(listed.stdout) as { keys: Array<{ kid: string; alg: string; status: string }> };
    expect(body.keys.map((key) => key.kid).sort()).to.deep.equal(kids);
    expect(body.keys.every((key) => key.status === 'active')).to.equal(true);
    expect(listed.stdout).not.to.match(/"d":/);
  });

  it('refuses a wrong secret with the setting named', async () => {
    const wrong = await spawnCli(['keys', 'list'], { ...env(), GATEHOUSE_SECRET: randomSecret() });
    expect(wrong.code).to.equal(78);
    expect(wrong.stderr).to.match(/^gatehouse: GATEHOUSE_SECRET: does not decrypt/);
  });
});
