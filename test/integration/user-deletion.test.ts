import { Readable } from 'node:stream';
import { expect } from 'chai';
import { cli } from '../../src/cli/cli.ts';
import * as oidc from 'openid-client';
import type { Connection } from 'mongoose';
import { DEFAULT_TOTP } from '../../src/mfa/totp.ts';
import { userOperations } from '../../src/operations/users.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';
import { runCli } from '../helpers/process.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';
import { authorizationRequest, basicAuthTokenRequest, givePasskeyRecord, instanceWithCliEnv, PASSWORD, REDIRECT_URI, relyingParty, seed, type Seeded } from '../helpers/e2e.ts';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { twoInstances, type TwoInstances } from '../helpers/two-instances.ts';

/** Every collection that held something of the user, and the field naming them there. */
const PER_USER = [
  ['users', '_id'],
  ['user_consents', 'accountId'],
  ['upstream_links', 'user_id'],
  ['mfa_factors', '_id'],
  ['mfa_recovery_codes', 'userId'],
  ['mfa_passkeys', 'userId'],
  ['session_devices', 'userId'],
  ['password_resets', 'userId'],
  ['user_sign_ins', '_id'],
  ['oidc_session', 'accountId'],
  ['oidc_grant', 'accountId'],
] as const;

describe('deleting a user (DELETE /users/{id}, two instances on real stores)', () => {
  let pair: TwoInstances;
  let a: RunningGatehouse;
  let b: RunningGatehouse;
  let cast: Seeded;
  let mongo: Connection;

  before(async () => {
    pair = await twoInstances('user_deletion');
    ({ a, b } = pair);
    cast = await seed(a);
    mongo = await connectMongo({ uri: pair.deploy.mongodbUri, timeoutMs: 5000 });
  });
  after(async () => {
    await mongo?.close();
    await pair?.stop();
  });

  const holdings = async (userId: string) =>
    Object.fromEntries(
      await Promise.all(
        PER_USER.map(async ([collection, field]) => [collection, await mongo.db!.collection(collection).countDocuments({ [field]: userId } as never)] as const),
      ),
    );
  const at = (instance: RunningGatehouse, path: string) => new URL(path, instance.url).toString();
  const introspect = async (instance: RunningGatehouse, token: string) =>
    (await (
      await fetch(at(instance, '/token/introspection'), {
        method: 'POST',
        headers: { authorization: clientSecretBasic(cast.web.clientId, cast.web.secret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
      })
    ).json()) as { active: boolean };
  const userinfo = async (instance: RunningGatehouse, token: string) => (await fetch(at(instance, '/me'), { headers: { authorization: `Bearer ${token}` } })).status;

  it('ends the sessions, refuses the tokens on every instance at once, erases every per-user record and frees the username and email; the audit trail stays', async () => {
    const created = await pair.api('POST', '/users', { username: 'dora', password: PASSWORD, email: 'dora@example.com', email_verified: true, roles: ['staff'], groups: ['north'] });
    expect(created.status).to.equal(201);
    const id = created.body.id as string;

    // A session, a consent (the web app is third-party: the consent page), an access and a refresh token.
    const web = await relyingParty(pair.deploy.issuer, cast.web.clientId, cast.web.secret);
    const request = await authorizationRequest(web, REDIRECT_URI, { scope: 'openid email offline_access', prompt: 'consent' });
    const outcome = await signIn(new UserAgent(), request.url.toString(), REDIRECT_URI, { username: 'dora', password: PASSWORD });
    expect(outcome.sawConsent).to.equal(true);
    const tokens = await oidc.authorizationCodeGrant(web, outcome.callback, request.checks);
    expect(tokens.refresh_token).to.be.a('string');
    // An upstream link, an authenticator app with recovery codes, a passkey, a pending reset link.
    await a.services.upstream.link('corp', 'dora-at-corp', id);
    await a.services.factors.importTotp(id, { secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', parameters: DEFAULT_TOTP, enrolledAt: new Date() }, { write: true });
    expect(await a.services.factors.regenerateRecoveryCodes(id)).to.not.be.empty;
    await givePasskeyRecord(pair.deploy, a, id);
    await mongo.db!.collection('password_resets').insertOne({ _id: 'reset-of-dora' as never, userId: id, expiresAt: new Date(Date.now() + 3_600_000) });
    await a.services.sessionDevices.flush();
    // The last sign-in time is written a second later, in a batch (src/accounts/last-login.ts).
    await within(NOTICE_MS, async () => (await mongo.db!.collection('user_sign_ins').countDocuments({ _id: id } as never)) === 1);

    // Both instances serve the tokens (the second one caches what it read).
    for (const instance of [a, b]) {
      expect(await introspect(instance, tokens.access_token)).to.include({ active: true });
      expect(await userinfo(instance, tokens.access_token)).to.equal(200);
    }
    const before = await holdings(id);
    expect(Object.entries(before).filter(([, count]) => count === 0).map(([name]) => name), 'every per-user record is there before').to.deep.equal([]);

    const deleted = await pair.api('DELETE', `/users/${id}`);
    expect(deleted.status).to.equal(204);

    // At once, at the other instance too: the access token is inactive and refused, the refresh token invalid.
    for (const instance of [b, a]) {
      expect(await introspect(instance, tokens.access_token), 'access token').to.deep.equal({ active: false });
      expect(await introspect(instance, tokens.refresh_token!), 'refresh token').to.deep.equal({ active: false });
      expect(await userinfo(instance, tokens.access_token)).to.equal(401);
    }
    const refreshed = await basicAuthTokenRequest(b.url, cast.web, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(refreshed.status).to.equal(400);
    expect(refreshed.body.error).to.equal('invalid_grant');

    const after = await holdings(id);
    expect(Object.entries(after).filter(([, count]) => count !== 0).map(([name]) => name), 'records left behind').to.deep.equal([]);
    expect(await a.services.upstream.linksOf(id)).to.deep.equal([]);
    expect((await pair.api('GET', `/users/${id}`)).status).to.equal(404);

    // Idempotent-safe: a second deletion is a 404 naming the problem.
    const again = await pair.api('DELETE', `/users/${id}`);
    expect(again.status).to.equal(404);
    expect(again.body.code).to.equal('user_not_found');

    // The username and email are free for a new account.
    const anew = await pair.api('POST', '/users', { username: 'dora', password: PASSWORD, email: 'dora@example.com' });
    expect(anew.status).to.equal(201);
    expect(anew.body.id).to.not.equal(id);
    expect(anew.body.roles).to.deep.equal([]);

    // The deletion is audited; the user's earlier events stay.
    const audit = await pair.api('GET', `/audit-events?user=${id}`);
    const types = audit.body.events.map((event: { type: string }) => event.type);
    expect(types).to.include.members(['user.deleted', 'user.created', 'signin.success']);
    const event = audit.body.events.find((e: { type: string }) => e.type === 'user.deleted');
    expect(event.target).to.deep.equal({ type: 'user', id });
    expect(event.actor.type).to.equal('client');
    expect(event.details.username).to.equal('dora');
    expect(event.details.revoked.grants).to.be.at.least(1);
  });

  it('a deletion that fails midway leaves the user disabled with nothing usable; a retry finishes it', async () => {
    const ctx = { actor: { type: 'system' as const, id: 'test' } };
    const user = await a.services.accounts.createUser({ username: 'eve', password: PASSWORD, email: 'eve@example.com' });
    await a.services.upstream.link('corp', 'eve-at-corp', user.id);
    const failing = userOperations({ ...a.services, userRecords: { ...a.services.userRecords, erase: () => Promise.reject(new Error('store went away')) } });
    let failure: unknown;
    await failing.delete(ctx, user.id).catch((error: unknown) => (failure = error));
    expect(failure).to.be.instanceOf(Error);
    const halfway = await a.services.accounts.findById(user.id);
    expect(halfway?.disabled, 'disabled before anything is erased').to.equal(true);
    expect(await a.services.upstream.linksOf(user.id), 'the upstream link (no way back in) already gone').to.deep.equal([]);

    await userOperations(a.services).delete(ctx, user.id);
    expect(await a.services.accounts.findById(user.id)).to.equal(undefined);
    expect(await a.services.accounts.findByLogin('eve@example.com')).to.equal(undefined);
  });
});

describe('gatehouse users delete (in-process CLI, real stores)', function () {
  this.timeout(120_000);
  const database = databaseForSuite('user_delete_cli');
  const secret = randomSecret();
  let gatehouse: RunningGatehouse;
  let env: Record<string, string>;

  before(async () => {
    ({ gatehouse, env } = await instanceWithCliEnv(database.uri, secret));
  });
  after(async () => {
    await gatehouse.close();
  });

  /** The command line at a terminal: each prompt is answered with `typed`. */
  const atTerminal = async (args: string[], typed: string) => {
    const prompts: string[] = [];
    let stdout = '';
    let stderr = '';
    const code = await cli(args, {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      stdin: Readable.from([]),
      readHidden: async (prompt) => (prompts.push(prompt), typed),
    });
    return { code, stdout, stderr, prompts };
  };

  it('refuses without --yes when standard input is not a terminal (exit 2, nothing deleted); --yes deletes (exit 0); an unknown user is exit 1', async () => {
    const user = await gatehouse.services.accounts.createUser({ username: 'frank', password: PASSWORD, email: 'frank@example.com' });
    const refused = await runCli(['users', 'delete', 'frank'], env);
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.include('--yes is required');
    expect(await gatehouse.services.accounts.findById(user.id), 'still there').to.not.equal(undefined);

    const done = await runCli(['users', 'delete', 'frank@example.com', '--yes', '--json'], env);
    expect(done.code, done.stderr).to.equal(0);
    expect(JSON.parse(done.stdout)).to.deep.include({ id: user.id, username: 'frank', deleted: true });
    expect(await gatehouse.services.accounts.findById(user.id)).to.equal(undefined);
    const events = await gatehouse.services.audit.query({ types: ['user.deleted'], users: [user.id], limit: 10 });
    expect(events.events.map((event) => event.actor.type)).to.deep.equal(['cli']);

    const unknown = await runCli(['users', 'delete', 'frank', '--yes'], env);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.match(/^gatehouse: user frank does not exist/);
    const missing = await runCli(['users', 'delete', '--yes'], env);
    expect(missing.code).to.equal(2);
  });

  it('at a terminal asks for the username: a wrong answer deletes nothing (exit 1), the username deletes', async () => {
    const user = await gatehouse.services.accounts.createUser({ username: 'grace', password: PASSWORD });
    const wrong = await atTerminal(['users', 'delete', user.id], 'gracie');
    expect(wrong.code).to.equal(1);
    expect(wrong.prompts).to.have.length(1);
    expect(wrong.prompts[0]).to.include(`Delete user grace (${user.id})`);
    expect(wrong.stderr).to.include('not deleted');
    expect(await gatehouse.services.accounts.findById(user.id)).to.not.equal(undefined);

    const right = await atTerminal(['users', 'delete', 'grace'], 'grace');
    expect(right.code, right.stderr).to.equal(0);
    expect(right.stdout).to.include('deleted user grace');
    expect(await gatehouse.services.accounts.findById(user.id)).to.equal(undefined);
  });

  it('help shows the command and its example', async () => {
    const help = await runCli(['users', 'delete', '--help'], {});
    expect(help.code).to.equal(0);
    expect(help.stdout).to.include('users delete USER [--yes]');
    expect(help.stdout).to.include('gatehouse users delete alice --yes');
  });
});
