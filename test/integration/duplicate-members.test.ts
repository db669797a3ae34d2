import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';

/** Line and column (1-based) of a place in a text, as the refusals count them. */
function placeOf(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, index).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

const message = (line: number, column: number) => `is given twice in its object: again at line ${line}, column ${column} (which one counts would be a guess; keep one)`;

describe('a JSON member given twice is refused on every admin API body and by gatehouse import --input, naming it and where (JSON.parse silently kept the last)', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  let env: Record<string, string>;
  let scratch: string;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'gatehouse-dup-members-'));
    deploy = await deployment('duplicate_members');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
  });
  after(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await gatehouse.close();
    await deploy.drop();
  });

  it('an ordinary admin route (PATCH /settings/otp, POST /clients) answers 400 duplicate_member naming the path, and changes nothing', async () => {
    const patch = '{"otp_digits": 8,\n "otp_digits": 6}';
    const refused = await callAdmin(gatehouse.url, token, 'PATCH', '/settings/otp', patch);
    expect(refused.status, JSON.stringify(refused.body)).to.equal(400);
    expect(refused.body.details).to.deep.equal([{ path: 'otp_digits', code: 'duplicate_member', params: { line: 2, column: 2 }, message: message(2, 2) }]);
    expect((await callAdmin(gatehouse.url, token, 'GET', '/settings/otp')).body.settings.otp_digits.value).to.equal(6);

    const client = '{"name": "Twice", "redirect_uris": ["https://twice.example/cb?x=a:b"], "name": "Other"}';
    const second = client.lastIndexOf('"name"');
    const created = await callAdmin(gatehouse.url, token, 'POST', '/clients', client);
    expect(created.status, JSON.stringify(created.body)).to.equal(400);
    expect(created.body.details).to.deep.equal([{ path: 'name', code: 'duplicate_member', params: placeOf(client, second), message: message(1, second + 1) }]);
    for (const name of ['Twice', 'Other']) expect((await callAdmin(gatehouse.url, token, 'GET', `/clients?q=${name}`)).body, name).to.deep.equal([]);

    // The same bodies without the second member are taken: the check refuses only what it must.
    expect((await callAdmin(gatehouse.url, token, 'PATCH', '/settings/otp', '{"otp_digits": 8}')).status).to.equal(200);
    expect((await callAdmin(gatehouse.url, token, 'PATCH', '/settings/otp', '{"otp_digits": null, "note:": null}')).status).to.equal(400);
    expect((await callAdmin(gatehouse.url, token, 'PATCH', '/settings/otp', '{"otp_digits": null}')).status).to.equal(200);
  });

  it('gatehouse import --input refuses an export with a member given twice, with its path, line and column; the same file without it imports', async () => {
    const created = await runCli(['users', 'create', '--username', 'dup-user', '--password-stdin', '--json'], env, 'Duplicate password 1\n');
    expect(created.code, created.stderr).to.equal(0);
    const clear = join(scratch, 'clear.json');
    const exported = await runCli(['export', '--output', clear, '--unencrypted', '--json'], env);
    expect(exported.code, exported.stderr).to.equal(0);
    const text = readFileSync(clear, 'utf8');
    const at = text.indexOf('"username": "dup-user"');
    expect(at).to.be.greaterThan(0);
    const twice = `${text.slice(0, at)}"username": "dup-user", "username": "someone-else"${text.slice(at + '"username": "dup-user"'.length)}`;
    const file = join(scratch, 'twice.json');
    writeFileSync(file, twice);
    const { line, column } = placeOf(twice, twice.indexOf('"username": "someone-else"'));
    const users = JSON.parse(text) as { users: Array<{ username: string }> };
    const index = users.users.findIndex((user) => user.username === 'dup-user');
    for (const dryRun of [['--dry-run'], []]) {
      const exit = await runCli(['import', '--input', file, ...dryRun], env);
      expect(exit.code, exit.stdout).to.equal(2);
      expect(exit.stdout).to.equal('');
      expect(exit.stderr.trim()).to.equal(`gatehouse: ${file}: users.${index}.username: ${message(line, column)}`);
    }
    const whole = await runCli(['import', '--input', clear, '--dry-run'], env);
    expect(whole.code, whole.stderr).to.equal(0);
  });
});
