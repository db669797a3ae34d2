import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { asPage, followTo, formsOf, submitForm, UserAgent, type AgentPage } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, oauthError, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';
import { emptyDatabase } from '../helpers/stores.ts';

const follow = (agent: UserAgent, url: string) => followTo(agent, url, REDIRECT_URI);
const submit = (agent: UserAgent, page: AgentPage, action: string, fields: Record<string, string> = {}) => submitForm(agent, page, action, fields, REDIRECT_URI);
const kind = (value: AgentPage | URL) => (value instanceof URL ? 'callback' : (formsOf(value.html)[0]?.action.split('/').at(-1) ?? 'other'));
const NEW_PASSWORD = 'a brand new passphrase 42';

/**
 * `gatehouse export` → `gatehouse import` into an empty deployment keeps what a user must do at
 * their next sign-in: an operator's required actions and a temporary password's
 * `update_password` (and whether the user registered themselves, which decides who
 * GATEHOUSE_REQUIRE_VERIFIED_EMAIL stops). Both files: the clear one and the sealed one. The
 * imported user is then made to change the password before the web app gets a code, and the
 * password grant refuses them until then. Real stores, the CLI, openid-client.
 */
describe('export → import keeps required actions and temporary passwords (real stores, CLI)', function () {
  this.timeout(240_000);
  const tag = randomBytes(4).toString('hex');
  const clearFile = join(tmpdir(), `gatehouse-export-reqact-${tag}.json`);
  const sealedFile = join(tmpdir(), `gatehouse-export-reqact-sealed-${tag}.json`);
  const passFile = join(tmpdir(), `gatehouse-export-reqact-${tag}.pass`);
  let source: Deployment;
  let target: Deployment;
  let cast: Seeded;
  let carol = '';
  let dave = '';
  const cliEnv = (deploy: Deployment) => ({ NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, ...(deploy.redisUrl ? { REDIS_URL: deploy.redisUrl } : {}), GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings });

  before(async () => {
    source = await deployment('export_reqact_source');
    target = await deployment('export_reqact_target');
    writeFileSync(passFile, `passphrase-${randomBytes(12).toString('hex')}\n`, { mode: 0o600 });
    const gatehouse = await source.start();
    try {
      cast = await seed(gatehouse);
      const { accounts } = gatehouse.services;
      // carol: an operator's actions, then a temporary password (as PUT /users/{id}/password with temporary does).
      carol = (await accounts.createUser({ username: `carol${tag}`, password: PASSWORD, email: `carol${tag}@example.com`, emailVerified: true, requiredActions: ['update_profile'] })).id;
      expect(await accounts.addRequiredActions(carol, ['update_password'])).to.deep.equal(['update_password', 'update_profile']);
      dave = (await accounts.createUser({ username: `dave${tag}`, password: PASSWORD, selfRegistered: true })).id;
    } finally {
      await gatehouse.close();
    }
  });
  after(async () => {
    for (const path of [clearFile, sealedFile, passFile]) rmSync(path, { force: true });
    await source.drop();
    await target.drop();
  });

  it('the clear file carries them on the user', async () => {
    const exported = await runCli(['export', '--output', clearFile, '--unencrypted', '--json'], cliEnv(source));
    expect(exported.code, exported.stderr).to.equal(0);
    const users = (JSON.parse(readFileSync(clearFile, 'utf8')) as { users: Array<Record<string, unknown>> }).users;
    expect(users.find((user) => user._id === carol)).to.deep.include({ requiredActions: ['update_password', 'update_profile'] });
    expect(users.find((user) => user._id === dave)).to.deep.include({ selfRegistered: true });
  });

  for (const sealed of [false, true]) {
    it(`${sealed ? 'the sealed file' : 'the clear file'} imported into an empty deployment: the user has them there`, async () => {
      const args = sealed ? ['--passphrase-file', passFile] : [];
      if (sealed) {
        const exported = await runCli(['export', '--output', sealedFile, ...args, '--json'], cliEnv(source));
        expect(exported.code, exported.stderr).to.equal(0);
      }
      await emptyDatabase(target.mongodbUri);
      const imported = await runCli(['import', '--input', sealed ? sealedFile : clearFile, ...args, '--json'], cliEnv(target));
      expect(imported.code, imported.stderr).to.equal(0);
      expect(JSON.parse(imported.stdout)).to.deep.include({ users: { created: 3, updated: 0 } });
      const gatehouse = await target.start();
      try {
        expect((await gatehouse.services.accounts.findById(carol))?.requiredActions).to.deep.equal(['update_password', 'update_profile']);
        expect((await gatehouse.services.accounts.findById(dave))?.selfRegistered).to.equal(true);
      } finally {
        await gatehouse.close();
      }
    });
  }

  it('an unknown required action in a file is refused, naming where, before anything is written', async () => {
    const document = JSON.parse(readFileSync(clearFile, 'utf8')) as { users: Array<Record<string, unknown>> };
    const index = document.users.findIndex((user) => user._id === carol);
    document.users[index]!.requiredActions = ['update_password', 'TERMS_AND_CONDITIONS'];
    const changed = join(tmpdir(), `gatehouse-export-reqact-bad-${tag}.json`);
    writeFileSync(changed, JSON.stringify(document), { mode: 0o600 });
    try {
      await emptyDatabase(target.mongodbUri);
      const refused = await runCli(['import', '--input', changed, '--json'], cliEnv(target));
      expect(refused.code).to.not.equal(0);
      expect(refused.stderr).to.include(`users.${index}.requiredActions.1`);
      const gatehouse = await target.start();
      try {
        expect(await gatehouse.services.accounts.findById(carol)).to.equal(undefined);
      } finally {
        await gatehouse.close();
      }
    } finally {
      rmSync(changed, { force: true });
    }
  });

  it('enforced there: the password grant refuses carol; the hosted sign-in makes her change the password and give her names before the app gets a code', async () => {
    await emptyDatabase(target.mongodbUri);
    const imported = await runCli(['import', '--input', clearFile, '--json'], cliEnv(target));
    expect(imported.code, imported.stderr).to.equal(0);
    const gatehouse = await target.start();
    try {
      const created = await gatehouse.services.clients.create({
        displayName: 'API gateway',
        firstParty: true,
        metadata: { redirect_uris: [], response_types: [], grant_types: ['refresh_token'], token_endpoint_auth_method: 'client_secret_basic', allow_password_grant: true },
      });
      const gateway = await relyingParty(target.issuer, created.client.clientId, created.secret!);
      const ropc = await oauthError(oidc.genericGrantRequest(gateway, 'password', { username: `carol${tag}`, password: PASSWORD, scope: 'openid' }));
      expect(ropc.error).to.equal('invalid_grant');
      expect(ropc.description).to.match(/^Account is not fully set up/);

      const web = await relyingParty(target.issuer, cast.web.clientId, cast.web.secret);
      const request = await authorizationRequest(web, REDIRECT_URI);
      const agent = new UserAgent();
      const login = asPage(await follow(agent, request.url.toString()));
      const password = asPage(await submit(agent, login, 'login', { login: `carol${tag}`, password: PASSWORD }));
      expect(kind(password)).to.equal('update-password');
      const profile = asPage(await submit(agent, password, 'update-password', { password: NEW_PASSWORD, confirm: NEW_PASSWORD }));
      expect(kind(profile)).to.equal('update-profile');
      let next = await submit(agent, profile, 'update-profile', { given_name: 'Carol', family_name: 'Danvers' });
      if (kind(next) === 'confirm') next = await submit(agent, asPage(next), 'confirm');
      expect(kind(next)).to.equal('callback');
      expect((await oidc.authorizationCodeGrant(web, next as URL, request.checks)).claims()!.sub).to.equal(carol);
      expect((await gatehouse.services.accounts.findById(carol))?.requiredActions).to.deep.equal([]);
    } finally {
      await gatehouse.close();
    }
  });
});
