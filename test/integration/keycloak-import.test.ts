import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { parseArgon2Hash } from '../../src/accounts/argon2-params.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { deployment, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/keycloak/realm-export.json', import.meta.url));
const REALM_EXPORT = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;

/** The users of the fixture, their passwords as set through Keycloak's admin API, and the algorithm Keycloak stored them with. */
const USERS = [
  { username: 'ada-argon2', password: 'Argon2 password #1', algorithm: 'argon2' },
  { username: 'ben-pbkdf2-sha512', password: 'Pbkdf2 sha512 password #2', algorithm: 'pbkdf2-sha512' },
  { username: 'cid-pbkdf2-sha256', password: 'Pbkdf2 sha256 password #3', algorithm: 'pbkdf2-sha256' },
  { username: 'dee-pbkdf2', password: 'Pbkdf2 sha1 password #4', algorithm: 'pbkdf2' },
] as const;

describe('Keycloak realm import (a realm exported by a real Keycloak 26)', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;

  const storedHash = async (username: string) => (await gatehouse.services.users.exportAll()).find((user) => user.username === username)!.passwordHash!;
  const authenticate = (login: string, password: string) => gatehouse.services.accounts.authenticate(login, password, '198.51.100.7');

  before(async () => {
    deploy = await deployment('keycloak_import', { settings: { GATEHOUSE_KEYCLOAK_REALM: 'acme' } });
    gatehouse = await deploy.start();
    // The admin client's token comes from Keycloak's token path (adminClient's helper uses Gatehouse's).
    const admin = await adminClient(gatehouse);
    const rp = await relyingParty(`${deploy.issuer}/realms/acme`, admin.clientId, admin.secret);
    token = (await oidc.clientCredentialsGrant(rp, { scope: 'admin' })).access_token;
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('the fixture holds one user per Keycloak hash algorithm', () => {
    const algorithms = (REALM_EXPORT.users as Array<{ username: string; credentials: Array<{ credentialData: string }> }>)
      .filter((user) => user.credentials.length > 0)
      .map((user) => [user.username, (JSON.parse(user.credentials[0]!.credentialData) as { algorithm: string }).algorithm]);
    for (const { username, algorithm } of USERS) expect(algorithms).to.deep.include([username, algorithm]);
  });

  it('a dry run reports what would change and writes nothing', async () => {
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak?dry_run=true', REALM_EXPORT);
    expect(status, JSON.stringify(body)).to.equal(200);
    expect(body.dryRun).to.equal(true);
    expect(body.users.created).to.have.members(['ada-argon2', 'ben-pbkdf2-sha512', 'cid-pbkdf2-sha256', 'dee-pbkdf2', 'eve-disabled']);
    expect(body.clients.created).to.have.members(['spa', 'portal', 'billing-worker']);
    expect(body.serviceAccounts).to.deep.equal([{ client: 'billing-worker', roles: ['orders-api:orders.read'] }]);
    expect(await gatehouse.services.clients.get('spa')).to.equal(undefined);
    expect((await gatehouse.services.users.exportAll()).some((user) => user.username === 'ada-argon2')).to.equal(false);
  });

  it('imports clients, roles, groups and users, and reports what it could not map', async () => {
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', REALM_EXPORT);
    expect(status, JSON.stringify(body)).to.equal(200);
    expect(body.passwordAlgorithms).to.deep.equal({ argon2: 2, 'pbkdf2-sha512': 1, 'pbkdf2-sha256': 1, pbkdf2: 1 });
    expect(body.roles.created).to.include.members(['editor', 'viewer', 'orders-api:orders.read', 'orders-api:orders.write']);
    expect(body.roles.created).to.not.include('offline_access');
    expect(body.groups.created).to.have.members(['/staff', '/staff/editors']);
    const unmapped = (body.unmapped as Array<{ kind: string; name: string; reason: string }>).map((item) => `${item.kind} ${item.name}`);
    expect(unmapped).to.include.members(['client orders-api', 'client spa']);
    // billing-worker's service-account user is not a user: its roles are the client's, for its client_credentials tokens.
    expect(unmapped).not.to.include('service account service-account-billing-worker');
    expect(body.serviceAccounts).to.deep.equal([{ client: 'billing-worker', roles: ['orders-api:orders.read'] }]);
    expect((await gatehouse.services.clients.get('billing-worker'))!.metadata.service_account_roles).to.deep.equal(['orders-api:orders.read']);
    expect((await gatehouse.services.users.exportAll()).some((user) => user.username.startsWith('service-account'))).to.equal(false);
    // ada's one other attribute (employeeNumber) is a custom attribute now, nothing left unmapped.
    expect(unmapped).not.to.include('user ada-argon2');
    // Keycloak's own clients are skipped on purpose, reported apart from what could not be mapped.
    expect(body.builtInClients).to.deep.equal(['account', 'account-console', 'admin-cli', 'broker', 'realm-management', 'security-admin-console']);
    expect(unmapped.filter((item) => /^client (account|account-console|admin-cli|broker|realm-management|security-admin-console)$/.test(item))).to.deep.equal([]);
    expect((body.unmapped as Array<{ name: string; reason: string }>).find((item) => item.name === 'spa')!.reason).to.match(/wildcards/);

    // Keycloak's ids become the users' sub; effective roles include those of groups and parent groups.
    const users = await gatehouse.services.users.exportAll();
    const ada = users.find((user) => user.username === 'ada-argon2')!;
    const exported = (REALM_EXPORT.users as Array<{ id: string; username: string }>).find((user) => user.username === 'ada-argon2')!;
    expect(ada._id).to.equal(exported.id);
    expect(ada).to.include({ email: 'ada-argon2@acme.test', emailVerified: true, givenName: 'ADA-ARGON2', familyName: 'Tester', disabled: false });
    expect(ada.customAttributes).to.deep.equal({ employeeNumber: '1001' });
    expect(ada.roles).to.have.members(['editor', 'viewer', 'orders-api:orders.read', 'orders-api:orders.write']);
    expect(ada.groups).to.deep.equal(['/staff/editors']);
    const dee = users.find((user) => user.username === 'dee-pbkdf2')!;
    expect(dee.roles).to.have.members(['editor', 'orders-api:orders.write']);
    expect(dee.emailVerified).to.equal(false);
    expect(users.find((user) => user.username === 'eve-disabled')!.disabled).to.equal(true);

    const spa = (await gatehouse.services.clients.get('spa'))!;
    expect(spa.metadata).to.include({ token_endpoint_auth_method: 'none', token_claims: 'keycloak' });
    expect(spa.metadata.redirect_uris).to.deep.equal(['https://app.acme.test/callback']);
    expect(spa.webOrigins).to.have.members(['https://app.acme.test', 'http://localhost:5173']);
    expect(spa.firstParty).to.equal(true);
  });

  it('every user signs in with the password they had in Keycloak, and is re-hashed to argon2id on the first success', async () => {
    for (const { username, password, algorithm } of USERS) {
      const before = await storedHash(username);
      expect(before.startsWith(algorithm === 'argon2' ? '$argon2id$' : `$pbkdf2-${algorithm === 'pbkdf2' ? 'sha1' : algorithm.slice('pbkdf2-'.length)}$`), before.slice(0, 20)).to.equal(true);
      expect((await authenticate(username, `${password}!`)).ok, `${username} with a wrong password`).to.equal(false);
      expect((await authenticate(username, password)).ok, `${username} (${algorithm})`).to.equal(true);
      const after = await storedHash(username);
      expect(parseArgon2Hash(after)?.algorithm, username).to.equal('argon2id');
      expect(after).to.not.equal(before);
      expect((await authenticate(username, password)).ok, `${username} after the upgrade`).to.equal(true);
    }
    expect((await authenticate('eve-disabled', 'Disabled password #5')).ok).to.equal(false);
  });

  it('signs a migrated user in on the hosted pages through Keycloak’s URLs, and keeps the confidential client’s secret', async () => {
    const issuer = `${deploy.issuer}/realms/acme`;
    await gatehouse.services.users.exportAll();
    const portal = await relyingParty(issuer, 'portal', 'portal-secret-0123456789abcdef');
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(portal, {
      redirect_uri: 'https://portal.acme.test/oauth/callback',
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    expect(url.pathname).to.equal('/realms/acme/protocol/openid-connect/auth');
    const { callback } = await signIn(new UserAgent(), url.href, 'https://portal.acme.test/oauth/callback', { username: 'cid-pbkdf2-sha256', password: 'Pbkdf2 sha256 password #3' });
    const tokens = await oidc.authorizationCodeGrant(portal, callback, { pkceCodeVerifier: verifier });
    const exported = (REALM_EXPORT.users as Array<{ id: string; username: string }>).find((user) => user.username === 'cid-pbkdf2-sha256')!;
    expect(tokens.claims()?.sub).to.equal(exported.id);

    const worker = await relyingParty(issuer, 'billing-worker', 'billing-secret-0123456789abcdef');
    expect((await oidc.clientCredentialsGrant(worker)).access_token).to.be.a('string');
    // Keycloak takes a client's secret in the form too; so does the imported client here.
    const inTheForm = await relyingParty(issuer, 'billing-worker', 'billing-secret-0123456789abcdef', oidc.ClientSecretPost('billing-secret-0123456789abcdef'));
    expect((await oidc.clientCredentialsGrant(inTheForm)).access_token).to.be.a('string');
  });

  it('billing-worker’s client_credentials tokens carry its Keycloak service account’s roles (openid-client, Keycloak URLs): opaque at introspection, and as a JWT of the import’s --api', async () => {
    const issuer = `${deploy.issuer}/realms/acme`;
    const worker = await relyingParty(issuer, 'billing-worker', 'billing-secret-0123456789abcdef');
    const opaque = await oidc.clientCredentialsGrant(worker);
    const introspected = await oidc.tokenIntrospection(worker, opaque.access_token);
    expect(introspected).to.include({ active: true, typ: 'Bearer', azp: 'billing-worker' });
    expect(introspected.realm_access).to.deep.equal({ roles: [] });
    expect(introspected.resource_access).to.deep.equal({ 'orders-api': { roles: ['orders.read'] } });

    // Re-imported with an API (Keycloak's kind of access token): the roles stay, now in a JWT.
    const api = `${issuer}/api`;
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', `/import/keycloak?api=${encodeURIComponent(api)}`, REALM_EXPORT);
    expect(status, JSON.stringify(body)).to.equal(200);
    const jwt = decodeJwt((await oidc.clientCredentialsGrant(worker)).access_token);
    expect(jwt).to.include({ aud: api, typ: 'Bearer', azp: 'billing-worker' });
    expect(jwt.resource_access).to.deep.equal({ 'orders-api': { roles: ['orders.read'] } });
    expect(JSON.stringify(jwt)).to.not.include('admin');
  });

  it('is idempotent: a re-import updates, and keeps passwords upgraded since', async () => {
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', REALM_EXPORT);
    expect(status).to.equal(200);
    expect(body.users.created).to.deep.equal([]);
    expect(body.users.updated).to.have.length(5);
    expect(body.clients.created).to.deep.equal([]);
    expect(body.passwordsKept).to.have.members(USERS.map((user) => user.username));
    for (const { username, password } of USERS) expect((await authenticate(username, password)).ok, username).to.equal(true);
    expect((await gatehouse.services.roles.list()).filter((role) => role.name === 'editor')).to.have.length(1);
  });

  it('with an API named, the imported clients get Keycloak-shaped JWT access tokens at sign-in', async () => {
    const api = 'https://acme.test/api';
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', `/import/keycloak?api=${encodeURIComponent(api)}`, REALM_EXPORT);
    expect(status, JSON.stringify(body)).to.equal(200);
    expect(body.api).to.deep.equal({ identifier: api, created: true });
    expect((await gatehouse.services.apis.find(api))?.tokenClaims).to.equal('keycloak');
    const portal = await relyingParty(`${deploy.issuer}/realms/acme`, 'portal', 'portal-secret-0123456789abcdef');
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(portal, {
      redirect_uri: 'https://portal.acme.test/oauth/callback',
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const { callback } = await signIn(new UserAgent(), url.href, 'https://portal.acme.test/oauth/callback', { username: 'ada-argon2', password: 'Argon2 password #1' });
    const tokens = await oidc.authorizationCodeGrant(portal, callback, { pkceCodeVerifier: verifier });
    const claims = decodeJwt(tokens.access_token);
    expect(claims).to.include({ aud: api, azp: 'portal', typ: 'Bearer', preferred_username: 'ada-argon2' });
    expect((claims.realm_access as { roles: string[] }).roles).to.have.members(['editor', 'viewer']);
    expect(claims.resource_access).to.deep.equal({ 'orders-api': { roles: ['orders.read', 'orders.write'] } });
  });

  it('answers 400 naming the problem for a document that is not a realm export', async () => {
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', { users: [] });
    expect(status).to.equal(400);
    expect(body.message).to.match(/realm/);
  });

  it('answers 400 naming the line and column where a body cut short ends, and writes nothing (it said only "not valid JSON")', async () => {
    const text = JSON.stringify({ realm: 'cut', users: [{ id: 'cut-user', username: 'cut-user', enabled: true }, { id: 'cut-2', username: 'cut-two', enabled: true }] }, null, 2);
    const cut = text.slice(0, text.indexOf('"cut-two"'));
    const lines = cut.split('\n');
    for (const path of ['/import/keycloak?dry_run=true', '/import/keycloak']) {
      const { status, body } = await callAdmin(gatehouse.url, token, 'POST', path, cut);
      expect(status, JSON.stringify(body)).to.equal(400);
      expect(body).to.deep.include({ code: 'not_json_at', params: { line: lines.length, column: lines.at(-1)!.length + 1, reason: 'the body ends there, before its JSON does (cut short)' } });
      expect(body.error_description).to.equal(`the request body is not valid JSON at line ${lines.length}, column ${lines.at(-1)!.length + 1}: the body ends there, before its JSON does (cut short)`);
    }
    const broken = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', '{\n  "realm": "cut",\n  "users": [} ]\n}');
    expect(broken.status).to.equal(400);
    expect(broken.body.error_description).to.equal('the request body is not valid JSON at line 3, column 13: expected a value');
    expect(await gatehouse.services.accounts.findByLogin('cut-user')).to.equal(undefined);
  });

  it('a body over the 64 MiB it takes: 413 saying the limit and pointing to the CLI, which streams a bigger realm', async () => {
    const padding = 'x'.repeat(64 * 1024 * 1024);
    const { status, body, headers } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', `{"realm":"big","padding":"${padding}"}`);
    expect(status).to.equal(413);
    expect(headers.get('connection')).to.equal('close');
    expect(body).to.deep.include({ error: 'invalid_request', code: 'keycloak_body_too_large', params: { limit: '64 MiB' } });
    expect(body.error_description).to.equal(
      'request body too large: this endpoint takes a realm export of at most 64 MiB; import a bigger realm with the CLI, which streams it (gatehouse import --keycloak FILE), or export it with kc.sh export --dir and import the directory (gatehouse import --keycloak DIR) or its files one request each',
    );
  });

  it('answers 400 naming `groups` for groups nested 20,000 deep, and writes nothing (it answered 500 from a stack overflow)', async () => {
    // Written as text: JSON.stringify itself cannot nest that deep.
    const groups = `[${'{"name":"g","path":"/g","subGroups":['.repeat(20_000)}${']}'.repeat(20_000)}]`;
    const realm = `{"realm":"deep","roles":{"realm":[{"name":"deep-role"}]},"groups":${groups},"users":[{"id":"deep-user","username":"deep-user","enabled":true}]}`;
    for (const path of ['/import/keycloak?dry_run=true', '/import/keycloak']) {
      const { status, body } = await callAdmin(gatehouse.url, token, 'POST', path, realm);
      expect(status, JSON.stringify(body)).to.equal(400);
      expect(body.details).to.deep.equal([{ path: 'groups', message: 'nested more than 100 levels deep', code: 'keycloak_too_deep', params: { max: 100 } }]);
    }
    expect(await gatehouse.services.accounts.findByLogin('deep-user')).to.equal(undefined);
  });

  it('the CLI runs the same import: gatehouse import --keycloak FILE --dry-run', async () => {
    const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
    const exit = await runCli(['import', '--keycloak', FIXTURE, '--dry-run'], env);
    expect(exit.code, exit.stderr).to.equal(0);
    expect(exit.stdout).to.match(/dry run \(nothing written\) for Keycloak realm acme/);
    expect(exit.stdout).to.match(/users: 0 new, 5 updated/);
    expect(exit.stdout).to.include("client billing-worker: service account's roles → service_account_roles (in its client_credentials tokens): orders-api:orders.read");
    expect(exit.stdout).to.include("Keycloak's built-in clients, skipped on purpose (Gatehouse has its own console, account page and admin API): account, account-console, admin-cli, broker, realm-management, security-admin-console");
    expect(exit.stdout.slice(exit.stdout.indexOf('not mapped:'))).to.not.match(/client (account|admin-cli|broker|realm-management)\b/);
    // Without --api the clients' access tokens are opaque: keycloak-js cannot read them, and the report says so.
    expect(exit.stdout).to.include("no --api: the clients' access tokens are opaque (Keycloak's are JWTs) — keycloak-js and APIs that read the access token need --api URI");
    const withApi = await runCli(['import', '--keycloak', FIXTURE, '--dry-run', '--api', `${deploy.issuer}/api`], env);
    expect(withApi.code, withApi.stderr).to.equal(0);
    expect(withApi.stdout).to.match(/API .*\/api \(Keycloak-shaped tokens/);
    expect(withApi.stdout).to.not.include('no --api');
  });

  it('refuses an export with a NUL character, naming where it is (a 400, never a store error mid-import)', async () => {
    const realm = { realm: 'nul', users: [{ id: 'nul-user', username: 'a\u0000b', enabled: true }] };
    const api = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', realm);
    expect(api.status, JSON.stringify(api.body)).to.equal(400);
    expect(api.body.details).to.deep.equal([{ path: 'users.0.username', message: 'must not contain a NUL character', code: 'nul_character' }]);
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-nul-'));
    try {
      const file = join(dir, 'realm.json');
      writeFileSync(file, JSON.stringify(realm));
      const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
      for (const dryRun of [['--dry-run'], []]) {
        const exit = await runCli(['import', '--keycloak', file, ...dryRun], env);
        expect(exit.code, exit.stderr).to.equal(2);
        expect(exit.stderr).to.equal('gatehouse: users.0.username: must not contain a NUL character\n');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validates each user as the admin API does: refusals are reported per user (a non-string username too) and the rest is imported', async () => {
    const realm = {
      realm: 'quirks',
      enabled: true,
      users: [
        { id: 'q-number', username: 12345, enabled: true },
        { id: 'q-space', username: 'has space', enabled: true },
        { id: 'q-long', username: 'l'.repeat(65), enabled: true },
        { id: 'q-bad-email', username: 'bad-email', email: 'not-an-email', enabled: true },
        { id: 'q-local-email', username: 'local-admin', email: 'admin@localhost', emailVerified: true, enabled: true },
        { id: 'q-long-name', username: 'long-name', firstName: 'n'.repeat(257), enabled: true },
        { id: 'q-fine', username: 'fine-user', email: 'fine-user@quirks.test', enabled: true },
        { id: 'q-mail', username: 'mail-user@quirks.test', email: 'mail-user@quirks.test', enabled: true },
        { id: 'q-mail-only', username: 'only-username@quirks.test', enabled: true },
        { id: 'q-mail-taken', username: 'fine-user@elsewhere.test', email: 'fine-user@elsewhere.test', enabled: true },
        { username: 'no-id', enabled: true },
      ],
    };
    // The admin API's own answer for the same names: the import's reasons must be the same.
    const adminSays = async (user: Record<string, unknown>) => {
      const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/users', user);
      expect(status, JSON.stringify(body)).to.equal(400);
      const [detail] = body.details as Array<{ path: string; message: string }>;
      return `${detail!.path}: ${detail!.message}`;
    };
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', realm);
    expect(status, JSON.stringify(body)).to.equal(200);
    expect(body.refusedUsers).to.deep.equal([
      { user: 'users.0 (id q-number)', reason: 'username: must be a string' },
      { user: 'has space', reason: await adminSays({ username: 'has space' }) },
      { user: 'l'.repeat(65), reason: 'username: must be 1-64 letters, digits, ".", "_" or "-"' },
      { user: 'long-name', reason: 'given_name: must be at most 256 characters' },
      { user: 'no-id', reason: 'id: must be a string' },
    ]);
    // A username that is an email address (Keycloak's "email as username"): a Gatehouse username
    // holds no "@", so the user gets the address's local part and signs in with the address as before.
    expect(body.users.created).to.have.members(['fine-user', 'mail-user', 'only-username', 'fine-user-2', 'bad-email', 'local-admin']);
    const users = await gatehouse.services.users.exportAll();
    const byId = (id: string) => users.find((user) => user._id === id);
    for (const refused of ['q-number', 'q-space', 'q-long', 'q-long-name']) expect(byId(refused), refused).to.equal(undefined);
    // An email the admin API refuses (Keycloak takes admin@localhost): the user is imported without it, and the report says so.
    expect(byId('q-bad-email')).to.include({ username: 'bad-email', email: null, emailVerified: false });
    expect(byId('q-local-email')).to.include({ username: 'local-admin', email: null, emailVerified: false });
    const reasonFor = (name: string) => (body.unmapped as Array<{ kind: string; name: string; reason: string }>).filter((item) => item.kind === 'user' && item.name === name).map((item) => item.reason);
    expect(reasonFor('bad-email')).to.include(`${await adminSays({ username: 'bad-email', email: 'not-an-email' })} ("not-an-email"): imported without this email`);
    expect(reasonFor('local-admin')).to.include(`${await adminSays({ username: 'local-admin', email: 'admin@localhost' })} ("admin@localhost"): imported without this email`);
    expect(byId('q-mail')).to.include({ username: 'mail-user', email: 'mail-user@quirks.test' });
    expect(byId('q-mail-only')).to.include({ username: 'only-username', email: 'only-username@quirks.test', emailVerified: false });
    expect(byId('q-mail-taken')).to.include({ username: 'fine-user-2', email: 'fine-user@elsewhere.test' });
    const renamed = (body.unmapped as Array<{ kind: string; name: string; reason: string }>).find((item) => item.name === 'mail-user@quirks.test')!;
    expect(renamed.reason).to.equal('the username is an email address, which a Gatehouse username cannot be: imported as mail-user (signs in with mail-user or mail-user@quirks.test)');
    expect((await gatehouse.services.accounts.findByLogin('mail-user@quirks.test'))?.id).to.equal('q-mail');

    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-quirks-'));
    try {
      const file = join(dir, 'realm.json');
      writeFileSync(file, JSON.stringify(realm));
      const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
      const exit = await runCli(['import', '--keycloak', file, '--dry-run'], env);
      expect(exit.code, exit.stderr).to.equal(0);
      expect(exit.stdout).to.match(/users: 0 new, 6 updated/);
      expect(exit.stdout).to.include('  users refused (the admin API refuses them too; the others are imported): 5\n');
      expect(exit.stdout).to.include('imported without this email');
      expect(exit.stdout).to.include('    users.0 (id q-number): username: must be a string\n');
      expect(exit.stdout).to.include('    has space: username: must be 1-64 letters, digits, ".", "_" or "-"\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a re-import of the same users in another order updates them: usernames derived from email addresses stay with their users', async () => {
    const users = [
      { id: 'o-1', username: 'sam@one.test', enabled: true },
      { id: 'o-2', username: 'sam@two.test', enabled: true },
      { id: 'o-3', username: 'Sam@three.test', enabled: true },
    ];
    const first = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', { realm: 'orders', enabled: true, users });
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    expect(first.body.conflicts).to.deep.equal([]);
    const usernames = async () => Object.fromEntries((await gatehouse.services.users.exportAll()).filter((user) => user._id.startsWith('o-')).map((user) => [user._id, user.username]));
    const named = await usernames();
    expect(named).to.deep.equal({ 'o-1': 'sam', 'o-3': 'sam-2', 'o-2': 'sam-3' });
    // The same users, exported in another order, and one more whose address sorts first.
    const again = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', { realm: 'orders', enabled: true, users: [{ id: 'o-0', username: 'sam@aaa.test', enabled: true }, ...users.reverse()] });
    expect(again.status, JSON.stringify(again.body)).to.equal(200);
    expect(again.body.conflicts).to.deep.equal([]);
    expect(again.body.users.updated).to.have.members(['sam', 'sam-2', 'sam-3']);
    expect(again.body.users.created).to.deep.equal(['sam-4']);
    expect(await usernames()).to.deep.equal({ ...named, 'o-0': 'sam-4' });
    expect((await gatehouse.services.accounts.findByLogin('sam@three.test'))?.id).to.equal('o-3');
  });
});
