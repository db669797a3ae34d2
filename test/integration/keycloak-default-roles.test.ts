import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/** `kc.sh export --dir` of a real Keycloak 26.7.3 (test/fixtures/keycloak/README.md): its default role holds `member`. */
const REALM_FILE = JSON.parse(readFileSync(new URL('../fixtures/keycloak/realm-export-dir/acme-dir-realm.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe("Keycloak's realm default roles → default_roles: every user Gatehouse creates after the import gets them, as in Keycloak", function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

  before(async () => {
    deploy = await deployment('keycloak_default_roles');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('a user created before has only the roles asked for; the import sets default_roles to the default role\'s roles (a dry run only says so)', async () => {
    const before = await call('POST', '/users', { username: 'early-bird', password: 'early-bird-password-1', roles: ['editor'] });
    expect(before.status, JSON.stringify(before.body)).to.equal(201);
    expect(before.body.roles).to.deep.equal(['editor']);

    const dry = await call('POST', '/import/keycloak?dry_run=true', REALM_FILE);
    expect(dry.status, JSON.stringify(dry.body)).to.equal(200);
    expect(dry.body.settings.changed).to.deep.include({ group: 'sign-in', setting: 'default_roles', from: [], to: ['member'], keycloak: 'defaultRole default-roles-acme-dir' });
    expect((await call('GET', '/settings/sign-in')).body.settings.default_roles).to.include({ source: 'default', env: 'GATEHOUSE_DEFAULT_ROLES' });

    const real = await call('POST', '/import/keycloak', REALM_FILE);
    expect(real.status, JSON.stringify(real.body)).to.equal(200);
    expect((await call('GET', '/settings/sign-in')).body.settings.default_roles).to.include({ source: 'stored' });
    expect((await call('GET', '/settings/sign-in')).body.settings.default_roles.value).to.deep.equal(['member']);
  });

  it('a user created after gets them besides the roles asked for; the users that were there keep theirs; null goes back to none', async () => {
    const after = await call('POST', '/users', { username: 'late-bird', password: 'late-bird-password-1', roles: ['editor'] });
    expect(after.status, JSON.stringify(after.body)).to.equal(201);
    expect([...(after.body.roles as string[])].sort()).to.deep.equal(['editor', 'member']);
    const stored = await gatehouse.services.accounts.findById(after.body.id as string);
    expect([...stored!.roles].sort()).to.deep.equal(['editor', 'member']);
    const early = (await call('GET', '/users?q=early-bird')).body.users as Array<{ username: string; roles: string[] }>;
    expect(early.find((user) => user.username === 'early-bird')!.roles).to.deep.equal(['editor']);

    const reset = await call('PATCH', '/settings/sign-in', { default_roles: null });
    expect(reset.status, JSON.stringify(reset.body)).to.equal(200);
    const plain = await call('POST', '/users', { username: 'plain-bird', password: 'plain-bird-password-1' });
    expect(plain.body.roles).to.deep.equal([]);
    const bad = await call('PATCH', '/settings/sign-in', { default_roles: ['x'.repeat(129)] });
    expect(bad.status).to.equal(400);
    expect(JSON.stringify(bad.body.details)).to.include('default_roles.0');
  });
});
