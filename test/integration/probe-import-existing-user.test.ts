import { pbkdf2Sync } from 'node:crypto';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';

const KNOWN = 'the export author knows this one 7';

/**
 * Probe (probe22): a user's id is the `sub` every app sees. A Keycloak export naming a Gatehouse
 * administrator's id (under another username) with a password hash its author knows, and without
 * the admin role, must not take over that account: the administrator keeps their password and
 * their role, and the export's password does not sign in.
 */
describe("probe: a Keycloak export naming an existing Gatehouse user's id", function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;

  before(async () => {
    deploy = await deployment('probe_kc_existing');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it("leaves the administrator's password and admin role as they were", async () => {
    const created = await callAdmin(gatehouse.url, token, 'POST', '/users', { username: 'root-admin', password: PASSWORD, email: 'root@example.com', email_verified: true, roles: ['admin'] });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id as string;
    const salt = Buffer.from('probe-salt-16byt');
    const hash = pbkdf2Sync(KNOWN, salt, 27500, 64, 'sha512');
    const realm = {
      realm: 'probeexisting',
      enabled: true,
      users: [
        {
          id,
          username: 'innocent',
          email: 'attacker@example.com',
          emailVerified: true,
          enabled: true,
          realmRoles: [],
          credentials: [{ type: 'password', secretData: JSON.stringify({ value: hash.toString('base64'), salt: salt.toString('base64'), additionalParameters: {} }), credentialData: JSON.stringify({ hashIterations: 27500, algorithm: 'pbkdf2-sha512', additionalParameters: {} }) }],
        },
      ],
    };
    const imported = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', realm);
    expect(imported.status, JSON.stringify(imported.body)).to.equal(200);

    const after = await callAdmin(gatehouse.url, token, 'GET', `/users/${id}`);
    const isCurrent = (password: string) => gatehouse.services.accounts.isCurrentPassword(id, password);
    const taken: string[] = [];
    if (!(after.body.roles as string[]).includes('admin')) taken.push('the admin role');
    if (after.body.username !== 'root-admin') taken.push(`the username (now ${after.body.username as string})`);
    if (after.body.email !== 'root@example.com') taken.push(`the address (now ${after.body.email as string})`);
    if (await isCurrent(KNOWN)) taken.push("the password (the export's signs in)");
    if (!(await isCurrent(PASSWORD))) taken.push('the own password');
    expect(taken, 'what the export took from the administrator').to.deep.equal([]);
  });
});
