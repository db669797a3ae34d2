import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { instanceWithCliEnv } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

/**
 * An operator cannot give a person a username starting with `service-account-` (any case or
 * width): Keycloak-shaped client_credentials tokens name a client's service account so, and apps
 * tell a service token by it. The admin API answers 400 naming `username` (code
 * username_reserved); the CLI (and the console, which calls the API) say the same.
 */
describe('usernames: service-account- is reserved for operators too', function () {
  this.timeout(90_000);
  const database = databaseForSuite('sa_username');
  let gatehouse: RunningGatehouse;
  let env: Record<string, string>;
  let token: string;

  before(async () => {
    ({ gatehouse, env } = await instanceWithCliEnv(database.uri, randomSecret()));
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
  });

  it('the admin API answers 400 naming username; nothing is created', async () => {
    for (const username of ['service-account-billing-worker', 'Service-Account-Billing', 'ｓｅｒｖｉｃｅ-account-x']) {
      const created = await callAdmin(gatehouse.url, token, 'POST', '/users', { username, password: 'a long enough password 2026' });
      expect(created.status, JSON.stringify(created.body)).to.equal(400);
      const details = created.body.details as Array<{ path: string; code: string; message: string }>;
      expect(details).to.have.length(1);
      expect(details[0]).to.include({ path: 'username', code: 'username_reserved' });
      expect(details[0]!.message).to.match(/must not start with "service-account-"/);
      expect(await gatehouse.services.accounts.findByLogin(username)).to.equal(undefined);
    }
    // A name that only resembles it is a username like any other.
    const fine = await callAdmin(gatehouse.url, token, 'POST', '/users', { username: 'service-accounts-team', password: 'a long enough password 2026' });
    expect(fine.status, JSON.stringify(fine.body)).to.equal(201);
  });

  it('the CLI refuses it with the same reason', async () => {
    const result = await runCli(['users', 'create', '--username', 'service-account-payroll', '--password-stdin', '--json'], env, 'a long enough password 2026');
    expect(result.code).to.not.equal(0);
    expect(result.stderr + result.stdout).to.match(/username: must not start with "service-account-"/);
    expect(await gatehouse.services.accounts.findByLogin('service-account-payroll')).to.equal(undefined);
  });
});
