import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { instanceWithCliEnv, PASSWORD } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

/**
 * The console and the admin API let a person in only while they are enabled and hold the `admin`
 * role (src/admin/auth.ts). Whatever would leave no such user — deleting or disabling the last
 * one, taking the role off them, deleting the role — is refused with 409 `last_admin`, through the
 * admin API and the CLI alike (Keycloak refuses to delete the master realm's last admin).
 */
describe('the last enabled admin cannot be removed (admin API and CLI, real stores)', function () {
  this.timeout(120_000);
  const database = databaseForSuite('last_admin');
  const secret = randomSecret();
  let gatehouse: RunningGatehouse;
  let env: Record<string, string>;
  let token: string;
  let serial = 0;

  before(async () => {
    ({ gatehouse, env } = await instanceWithCliEnv(database.uri, secret));
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse?.close();
  });

  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);
  const newUser = async (roles: string[]) => gatehouse.services.accounts.createUser({ username: `op-${++serial}`, password: PASSWORD, roles });
  const lastAdmin = (response: { status: number; body: any }) => {
    expect(response.status, JSON.stringify(response.body)).to.equal(409);
    expect(response.body).to.include({ code: 'last_admin' });
    expect(response.body.error_description ?? response.body.message).to.match(/no enabled user with the admin role/);
  };

  it('refuses to delete, disable or take the role off the only enabled admin; allowed once another admin exists', async () => {
    const only = await newUser(['admin']);
    // A disabled admin does not count: nobody can sign in with it.
    const disabled = await newUser(['admin']);
    await gatehouse.services.accounts.disable(disabled.id);

    lastAdmin(await call('DELETE', `/users/${only.id}`));
    lastAdmin(await call('POST', `/users/${only.id}/disable`));
    lastAdmin(await call('PATCH', `/users/${only.id}`, { roles: ['staff'] }));
    lastAdmin(await call('DELETE', `/roles/admin/members/${only.id}`));
    lastAdmin(await call('DELETE', '/roles/admin'));
    const still = await gatehouse.services.accounts.findById(only.id);
    expect(still?.disabled).to.equal(false);
    expect(still?.roles).to.deep.equal(['admin']);

    // Changes that keep the role, and other users, are not concerned.
    expect((await call('PATCH', `/users/${only.id}`, { roles: ['admin', 'staff'] })).status).to.equal(200);
    expect((await call('DELETE', `/users/${disabled.id}`)).status).to.equal(204);
    const plain = await newUser([]);
    expect((await call('POST', `/users/${plain.id}/disable`)).status).to.equal(204);

    const second = await newUser(['admin']);
    expect((await call('POST', `/users/${only.id}/disable`)).status).to.equal(204);
    lastAdmin(await call('DELETE', `/users/${second.id}`));
    expect((await call('POST', `/users/${only.id}/enable`)).status).to.equal(204);
    expect((await call('DELETE', `/users/${second.id}`)).status).to.equal(204);
    lastAdmin(await call('DELETE', `/users/${only.id}`));
  });

  it('the CLI says why and exits 1', async () => {
    const { users } = await gatehouse.services.users.search({ role: 'admin', limit: 10, offset: 0 });
    const enabled = users.filter((user) => !user.disabled);
    expect(enabled).to.have.length(1);
    const disabling = await runCli(['users', 'disable', enabled[0]!.username], env);
    expect(disabling.code).to.equal(1);
    expect(disabling.stderr).to.match(/no enabled user with the admin role/);
    const deleting = await runCli(['users', 'delete', enabled[0]!.username, '--yes'], env);
    expect(deleting.code).to.equal(1);
    expect(deleting.stderr).to.match(/no enabled user with the admin role/);
    expect((await gatehouse.services.accounts.findById(enabled[0]!.id))?.disabled).to.equal(false);
  });
});
