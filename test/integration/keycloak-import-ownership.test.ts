import { pbkdf2Sync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { ACCOUNT_CLIENT_ID } from '../../src/clients/account-client.ts';
import type { StoredUser } from '../../src/accounts/user-model.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { exportAll, importAll } from '../../src/transfer/export-file.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { authorizationRequest, deployment, PASSWORD, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { runCli } from '../helpers/process.ts';

const NOT_OURS = 'id held by a user not imported from this realm: left as it is';
/** A holder without the mark: a Gatehouse user, or one an import made before users were marked whose password no longer proves it (said, with the way out). */
const UNMARKED =
  'id held by a user no import marked as this realm\'s — created in Gatehouse, or imported before imports marked their users and holding a password other than the export\'s PBKDF2 one (signed in since, changed, or an argon2 hash, which Gatehouse cannot tell from its own): left as it is. If it is this realm\'s user, delete it (gatehouse users delete ID: the sub stays Keycloak\'s id) and import again';

/** A Keycloak user with a PBKDF2-SHA512 password (what Keycloak's export carries). */
function keycloakUser(id: string, username: string, password: string, extra: Record<string, unknown> = {}) {
  const salt = Buffer.from(`salt-${username}`.padEnd(16, '.').slice(0, 16));
  const hash = pbkdf2Sync(password, salt, 27500, 64, 'sha512');
  return {
    id,
    username,
    email: `${username}@example.com`,
    emailVerified: true,
    enabled: true,
    realmRoles: [],
    credentials: [
      {
        type: 'password',
        createdDate: 1_700_000_000_000,
        secretData: JSON.stringify({ value: hash.toString('base64'), salt: salt.toString('base64'), additionalParameters: {} }),
        credentialData: JSON.stringify({ hashIterations: 27500, algorithm: 'pbkdf2-sha512', additionalParameters: {} }),
      },
    ],
    ...extra,
  };
}

const realm = (name: string, users: unknown[]) => ({ realm: name, enabled: true, users });

/**
 * A user's id is the `sub` apps know. A Keycloak import marks the users it creates with their realm
 * (importedFrom); a re-import of that realm updates them, and nothing else: a Gatehouse user or
 * another realm's holding the id is a conflict (dry run too), left as it is. Users imported before
 * the mark are taken as the realm's only while their stored password is the export's PBKDF2 one.
 */
describe('Keycloak import: a re-import updates only the users its realm created', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const stored = async (id: string) => (await gatehouse.services.users.storedById(id))!;
  const importRealm = (body: unknown, dryRun = false) => callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${dryRun ? '?dry_run=true' : ''}`, body);
  const signsIn = async (login: string, password: string) => (await gatehouse.services.accounts.authenticate(login, password, '198.51.100.9')).ok;

  before(async () => {
    deploy = await deployment('kc_import_ownership');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  const alice = randomUUID();

  it('marks the users it creates with the realm: operators see it (admin API imported_from, OpenAPI, CLI users get), the user never (tokens, account page)', async () => {
    const { status, body } = await importRealm(realm('alpha', [keycloakUser(alice, 'alice', 'alice keycloak pass 1')]));
    expect(status, JSON.stringify(body)).to.equal(200);
    expect(body.users.created).to.deep.equal(['alice']);
    expect((await stored(alice)).importedFrom).to.deep.equal({ kind: 'keycloak', realm: 'alpha' });
    const user = await callAdmin(gatehouse.url, token, 'GET', `/users/${alice}`);
    expect(user.body.imported_from).to.deep.equal({ kind: 'keycloak', realm: 'alpha' });
    expect(user.body).to.not.have.property('importedFrom');
    const listed = await callAdmin(gatehouse.url, token, 'GET', '/users?q=alice');
    expect(listed.body.users[0].imported_from).to.deep.equal({ kind: 'keycloak', realm: 'alpha' });
    const openapi = (await callAdmin(gatehouse.url, undefined, 'GET', '/openapi.json')).body;
    expect(JSON.stringify(openapi)).to.include('imported_from');
    // A user Gatehouse created: null.
    const native = await callAdmin(gatehouse.url, token, 'POST', '/users', { username: 'native-olga', email: 'olga@example.com' });
    expect(native.body.imported_from).to.equal(null);

    const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
    const shown = await runCli(['users', 'get', 'alice'], env);
    expect(shown.code, shown.stderr).to.equal(0);
    expect((JSON.parse(shown.stdout) as { imported_from: unknown }).imported_from).to.deep.equal({ kind: 'keycloak', realm: 'alpha' });
    expect((JSON.parse((await runCli(['users', 'get', 'native-olga', '--json'], env)).stdout) as { imported_from: unknown }).imported_from).to.equal(null);

    // The user's own views: the account page's sign-in (code + PKCE), its tokens and its API.
    const config = await relyingParty(deploy.issuer, ACCOUNT_CLIENT_ID);
    const accountUrl = `${deploy.issuer}/account/`;
    const request = await authorizationRequest(config, accountUrl);
    const { callback } = await signIn(new UserAgent(), request.url.href, accountUrl, { username: 'alice', password: 'alice keycloak pass 1' });
    const tokens = await oidc.authorizationCodeGrant(config, callback, request.checks);
    const profile = await fetch(`${deploy.issuer}/account/api/v1/profile`, { headers: { accept: 'application/json', authorization: `Bearer ${tokens.access_token}` } });
    expect(profile.status).to.equal(200);
    const profileBody = await profile.text();
    expect(profileBody).to.include('alice');
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect(userinfo.sub).to.equal(alice);
    for (const seen of [JSON.stringify(tokens.claims()), JSON.stringify(userinfo), profileBody]) {
      expect(seen).to.not.match(/imported|keycloak|alpha/i);
    }
  });

  it('a re-import of the same realm updates its user', async () => {
    const { body } = await importRealm(realm('alpha', [keycloakUser(alice, 'alice', 'alice keycloak pass 1', { email: 'alice.new@example.com' })]));
    expect(body.users.updated).to.deep.equal(['alice']);
    expect(body.conflicts).to.deep.equal([]);
    expect((await stored(alice)).email).to.equal('alice.new@example.com');
  });

  it("another realm's export naming that id is a conflict, in the dry run too, and the user is left as it is", async () => {
    const hostile = realm('beta', [keycloakUser(alice, 'mallory', 'mallory knows this 2')]);
    for (const dryRun of [true, false]) {
      const { status, body } = await importRealm(hostile, dryRun);
      expect(status).to.equal(200);
      expect(body.conflicts, `dry run: ${dryRun}`).to.deep.equal([{ user: 'mallory', reason: NOT_OURS }]);
      expect(body.counts.conflicts).to.equal(1);
      expect(body.users.created).to.deep.equal([]);
      expect(body.users.updated).to.deep.equal([]);
    }
    const after = await stored(alice);
    expect([after.username, after.email, after.importedFrom?.realm]).to.deep.equal(['alice', 'alice.new@example.com', 'alpha']);
    expect(await signsIn('alice', 'alice keycloak pass 1')).to.equal(true);
    expect(await signsIn(alice, 'mallory knows this 2')).to.equal(false);
  });

  it("a Gatehouse user's id is never taken over, whatever the export says (its password's date among it)", async () => {
    const created = await callAdmin(gatehouse.url, token, 'POST', '/users', { username: 'native-nina', password: PASSWORD, email: 'nina@example.com', email_verified: true, roles: ['admin'] });
    expect(created.status).to.equal(201);
    const nina = created.body.id as string;
    const before = await stored(nina);
    const hostile = keycloakUser(nina, 'native-nina', 'export knows this 3', { email: 'nina@example.com', credentials: [{ ...keycloakUser(nina, 'x', 'export knows this 3').credentials[0], createdDate: 4_000_000_000_000 }] });
    for (const dryRun of [true, false]) {
      const { body } = await importRealm(realm('alpha', [hostile]), dryRun);
      expect(body.conflicts, `dry run: ${dryRun}`).to.deep.equal([{ user: 'native-nina', reason: UNMARKED }]);
    }
    expect(await stored(nina)).to.deep.equal(before);
    expect(await signsIn('native-nina', PASSWORD)).to.equal(true);
  });

  it('a user imported before the mark is updated (and marked) while its stored password is still the export’s; changed since, it is a conflict', async () => {
    const [bob, carl] = [randomUUID(), randomUUID()];
    const users = [keycloakUser(bob, 'bob', 'bob keycloak pass 4'), keycloakUser(carl, 'carl', 'carl keycloak pass 5')];
    await importRealm(realm('alpha', users));
    // As an earlier version wrote them: no mark.
    for (const id of [bob, carl]) {
      const { importedFrom: _from, ...unmarked } = await stored(id);
      await gatehouse.services.users.importOne(unmarked as StoredUser);
      expect((await stored(id)).importedFrom).to.equal(undefined);
    }
    // carl signs in since: the PBKDF2 hash is upgraded to argon2id, and no longer proves where carl came from.
    expect(await signsIn('carl', 'carl keycloak pass 5')).to.equal(true);
    const { body } = await importRealm(realm('alpha', users));
    expect(body.users.updated).to.deep.equal(['bob']);
    expect(body.conflicts).to.deep.equal([{ user: 'carl', reason: UNMARKED }]);
    expect((await stored(bob)).importedFrom).to.deep.equal({ kind: 'keycloak', realm: 'alpha' });
    expect((await stored(carl)).importedFrom).to.equal(undefined);
  });

  it('a user imported before the mark with Keycloak\'s argon2 hash is a conflict even untouched, saying so and what to do; deleted and imported again, it is the realm\'s', async () => {
    const fixture = JSON.parse(readFileSync(new URL('../fixtures/keycloak/realm-export.json', import.meta.url), 'utf8')) as { users: Array<{ username: string; credentials: unknown[] }> };
    const argon2 = fixture.users.find((user) => user.username === 'ada-argon2')!.credentials;
    const gina = randomUUID();
    const user = keycloakUser(gina, 'gina', 'unused', { credentials: argon2 });
    await importRealm(realm('alpha', [user]));
    const { importedFrom: _from, ...unmarked } = await stored(gina);
    await gatehouse.services.users.importOne(unmarked as StoredUser);
    for (const dryRun of [true, false]) {
      const { body } = await importRealm(realm('alpha', [user]), dryRun);
      expect(body.conflicts, `dry run: ${dryRun}`).to.deep.equal([{ user: 'gina', reason: UNMARKED }]);
    }
    expect((await callAdmin(gatehouse.url, token, 'DELETE', `/users/${gina}`)).status).to.equal(204);
    const { body } = await importRealm(realm('alpha', [user]));
    expect(body.users.created).to.deep.equal(['gina']);
    expect((await stored(gina)).importedFrom).to.deep.equal({ kind: 'keycloak', realm: 'alpha' });
    expect(await signsIn('gina', 'Argon2 password #1')).to.equal(true);
  });

  it('without a password: an earlier import (no usable password) is a conflict — nothing secret shows it is the realm’s —, and so is a Gatehouse user without one (passkey, upstream)', async () => {
    // Keycloak's no-usable-password marker is a constant and the id is the `sub` every app sees: an
    // export of any realm naming that id without a password proved nothing, yet took the user over
    // (its email replaced, then "Forgot password?" to the new address). Deleted and imported again, it is the realm's.
    const erin = randomUUID();
    const bare = (id: string, username: string, email = `${username}@example.com`) => ({ id, username, email, enabled: true, emailVerified: true });
    await importRealm(realm('alpha', [bare(erin, 'erin')]));
    const { importedFrom: _from, ...unmarked } = await stored(erin);
    await gatehouse.services.users.importOne(unmarked as StoredUser);
    const before = await stored(erin);
    const created = await callAdmin(gatehouse.url, token, 'POST', '/users', { username: 'no-pass-pat', email: 'pat@example.com' });
    const pat = created.body.id as string;
    expect((await stored(pat)).passwordHash).to.equal(null);
    for (const dryRun of [true, false]) {
      const { body } = await importRealm(realm('hostile', [bare(erin, 'erin', 'mallory@example.net'), bare(pat, 'no-pass-pat')]), dryRun);
      expect(body.users.updated, `dry run: ${dryRun}`).to.deep.equal([]);
      expect(body.conflicts, `dry run: ${dryRun}`).to.deep.equal([{ user: 'erin', reason: UNMARKED }, { user: 'no-pass-pat', reason: UNMARKED }]);
    }
    expect(await stored(erin)).to.deep.equal(before);
    expect((await stored(pat)).importedFrom).to.equal(undefined);
    expect((await callAdmin(gatehouse.url, token, 'DELETE', `/users/${erin}`)).status).to.equal(204);
    const { body } = await importRealm(realm('alpha', [bare(erin, 'erin')]));
    expect(body.users.created).to.deep.equal(['erin']);
    expect((await stored(erin)).importedFrom).to.deep.equal({ kind: 'keycloak', realm: 'alpha' });
  });

  it("a re-import does not take Gatehouse's admin role from a user it owns, nor disable them", async () => {
    const dora = randomUUID();
    await importRealm(realm('alpha', [keycloakUser(dora, 'dora', 'dora keycloak pass 6')]));
    const granted = await callAdmin(gatehouse.url, token, 'POST', '/roles/admin/members', { user_id: dora });
    expect(granted.status, JSON.stringify(granted.body)).to.be.oneOf([200, 204]);
    const { body } = await importRealm(realm('alpha', [keycloakUser(dora, 'dora', 'dora keycloak pass 6', { enabled: false })]));
    expect(body.users.updated).to.deep.equal(['dora']);
    const after = await stored(dora);
    expect(after.roles).to.include('admin');
    expect(after.disabled).to.equal(false);
  });

  it('a backup (gatehouse export → import) keeps the mark', async () => {
    let text = '';
    await exportAll(gatehouse.services, deploy.issuer, { write: (piece) => (text += piece), encrypted: false });
    const { importedFrom: _from, ...unmarked } = await stored(alice);
    await gatehouse.services.users.importOne(unmarked as StoredUser);
    await importAll(gatehouse.services, JSON.parse(text), deploy.issuer);
    expect((await stored(alice)).importedFrom).to.deep.equal({ kind: 'keycloak', realm: 'alpha' });
  });
});
