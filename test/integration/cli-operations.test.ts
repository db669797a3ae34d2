import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { RunningGatehouse } from '../../src/server.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { instanceWithCliEnv } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

const API = 'https://ledger.example.com';

interface AuditPage {
  events: Array<{ type: string; actor: { type: string; id: string | null; username: string | null }; client: string | null; ip: string | null; target: { type: string; id: string } | null; details: Record<string, unknown> }>;
  next: string | null;
}

describe('gatehouse CLI: every client and API field, groups, sessions, audit (in-process, real stores)', function () {
  // Commands run in this process (test/helpers/process.ts runCli); the server and stores are real. Sized for a busy 2-core machine.
  this.timeout(180_000);
  const database = databaseForSuite('cli_ops');
  const secret = randomSecret();
  const jwksFile = join(tmpdir(), `gatehouse-jwks-${randomBytes(4).toString('hex')}.json`);
  let gatehouse: RunningGatehouse;
  let env: Record<string, string>;
  const cli = async (args: string[], stdin?: string) => {
    // --json goes before a `--` that ends the options (IDs after it may start with '-').
    const end = args.includes('--') ? args.indexOf('--') : args.length;
    const result = await runCli([...args.slice(0, end), '--json', ...args.slice(end)], env, stdin);
    return { ...result, json: () => JSON.parse(result.stdout) as any };
  };
  const ok = async (args: string[], stdin?: string) => {
    const result = await cli(args, stdin);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(0);
    return result.json();
  };
  const audit = async (...filters: string[]): Promise<AuditPage> => ok(['audit', ...filters]);

  before(async () => {
    ({ gatehouse, env } = await instanceWithCliEnv(database.uri, secret));
  });
  after(async () => {
    await gatehouse.close();
    rmSync(jwksFile, { force: true });
  });

  it('keys rotate is audited as keys.rotated with the CLI user as actor, as from the admin API', async () => {
    const rotated = await ok(['keys', 'rotate']);
    expect(rotated.rotated).to.equal(true);
    const { events } = await audit('--type', 'keys.rotated');
    expect(events).to.have.length(1);
    expect(events[0]!.actor.type).to.equal('cli');
    expect(events[0]!.details.kids).to.deep.equal(rotated.keys.map((key: { kid: string }) => key.kid));
  });

  it('creates a private_key_jwt client from a JWKS file; it gets a token with a signed assertion, no secret', async () => {
    await ok(['apis', 'create', '--identifier', API, '--scope', 'entries:read']);
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig', kid: 'k1' }] }));
    const created = await ok(['clients', 'create', '--name', 'Ledger sync', '--auth-method', 'private_key_jwt', '--jwks-file', jwksFile, '--grant-type', 'client_credentials', '--api', API]);
    expect(Object.keys(created)).to.deep.equal(['client_id']);
    const shown = await ok(['clients', 'get', created.client_id]);
    expect(shown).to.deep.include({ token_endpoint_auth_method: 'private_key_jwt', type: 'confidential', has_secret: false });
    expect(shown.jwks.keys[0].kid).to.equal('k1');

    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(created.client_id)
      .setSubject(created.client_id)
      .setAudience(gatehouse.url.replace('localhost', '127.0.0.1'))
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(privateKey);
    const response = await fetch(`${gatehouse.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'entries:read',
        client_id: created.client_id,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }).toString(),
    });
    const body = (await response.json()) as Record<string, string>;
    expect(response.status, JSON.stringify(body)).to.equal(200);
    expect(decodeJwt(body.access_token!)).to.include({ aud: API, client_id: created.client_id });

    const missingKeys = await cli(['clients', 'create', '--name', 'x', '--auth-method', 'private_key_jwt', '--grant-type', 'client_credentials']);
    expect(missingKeys.code).to.equal(2);
    expect(missingKeys.stderr).to.equal('gatehouse: --jwks: private_key_jwt needs jwks or jwks_uri\n');
    writeFileSync(jwksFile, JSON.stringify({ keys: [await exportJWK(privateKey)] }));
    const privateJwk = await cli(['clients', 'create', '--name', 'x', '--auth-method', 'private_key_jwt', '--jwks-file', jwksFile, '--grant-type', 'client_credentials']);
    expect(privateJwk.code).to.equal(2);
    expect(privateJwk.stderr).to.match(/^gatehouse: --jwks-file: public keys only/);
  });

  it('sets, shows and unsets every client field; refuses javascript: URIs', async () => {
    const { client_id: id } = await ok(['clients', 'create', '--name', 'Portal', '--redirect-uri', 'https://portal.example.com/cb', '--first-party']);
    const updated = await ok([
      'clients', 'update', id,
      '--logo-uri', 'https://portal.example.com/logo.png',
      '--client-uri', 'https://portal.example.com/',
      '--policy-uri', 'https://portal.example.com/privacy',
      '--tos-uri', 'https://portal.example.com/terms',
      '--backchannel-logout-uri', 'https://portal.example.com/logout',
      '--backchannel-logout-session-required',
      '--minimal-id-token',
      '--login-uses-default-api',
      '--require-pkce',
      '--api', API,
      '--default-api', API,
      '--api-scope', `${API} entries:read`,
      '--auth-method', 'client_secret_post',
    ]);
    expect(updated).to.deep.include({
      logo_uri: 'https://portal.example.com/logo.png',
      client_uri: 'https://portal.example.com/',
      policy_uri: 'https://portal.example.com/privacy',
      tos_uri: 'https://portal.example.com/terms',
      backchannel_logout_uri: 'https://portal.example.com/logout',
      backchannel_logout_session_required: true,
      minimal_id_token: true,
      login_uses_default_api: true,
      require_pkce: true,
      default_api: API,
      token_endpoint_auth_method: 'client_secret_post',
    });
    expect(updated.api_scopes).to.deep.equal([{ api: API, scopes: ['entries:read'] }]);
    // The provider serves the client with these settings (e.g. minimal ID tokens): it still loads.
    expect((await gatehouse.services.clients.providerMetadata(id))?.minimal_id_token).to.equal(true);

    const unset = await ok(['clients', 'update', id, '--unset', 'logo_uri', '--unset', 'tos-uri', '--no-minimal-id-token']);
    expect(unset).to.deep.include({ logo_uri: null, tos_uri: null, minimal_id_token: false, policy_uri: 'https://portal.example.com/privacy' });

    // Named by the flag that was typed (the second --redirect-uri with its value), not by the API's field.
    for (const [flag, named] of [['--redirect-uri', "--redirect-uri 'javascript:alert(1)': "], ['--logo-uri', '--logo-uri: '], ['--backchannel-logout-uri', '--backchannel-logout-uri: ']] as const) {
      const refused = await cli(['clients', 'create', '--name', 'evil', '--redirect-uri', 'https://ok.example.com/cb', flag, 'javascript:alert(1)']);
      expect(refused.code, flag).to.equal(2);
      expect(refused.stderr, flag).to.match(new RegExp(`^gatehouse: ${named.replace(/[()]/g, '\\$&')}`));
    }
  });

  it('apis get | update (introspecting client, ttl) | delete', async () => {
    const { client_id: introspector } = await ok(['clients', 'create', '--name', 'Ledger API', '--grant-type', 'client_credentials']);
    const updated = await ok(['apis', 'update', API, '--ttl', '120', `--introspection-client=${introspector}`, '--roles']);
    expect(updated).to.deep.include({ access_token_ttl: 120, client_id: introspector, include_roles: true });
    expect(await ok(['apis', 'get', API])).to.deep.include({ identifier: API, client_id: introspector });
    const unknownClient = await cli(['apis', 'update', API, '--introspection-client', 'nobody']);
    expect(unknownClient.code).to.equal(2);
    expect(unknownClient.stderr).to.equal('gatehouse: --introspection-client: no client with id nobody\n');
    expect(await ok(['apis', 'update', API, '--no-introspection-client'])).to.deep.include({ client_id: null });
    await ok(['apis', 'create', '--identifier', 'https://scratch.example.com']);
    expect(await ok(['apis', 'delete', 'https://scratch.example.com'])).to.deep.equal({ deleted: 'https://scratch.example.com' });
    expect((await cli(['apis', 'get', 'https://scratch.example.com'])).code).to.equal(1);
  });

  it('groups create | assign | list | remove | delete', async () => {
    await ok(['users', 'create', '--username', 'gail', '--password-stdin'], 'gail password 1');
    await ok(['groups', 'create', 'finance', '--description', 'Finance team']);
    expect(await ok(['groups', 'assign', 'finance', '--user', 'gail'])).to.include({ group: 'finance', assigned: true });
    expect((await ok(['groups', 'list'])).map((g: { name: string }) => g.name)).to.include('finance');
    expect((await gatehouse.services.accounts.findByLogin('gail'))?.groups).to.deep.equal(['finance']);
    await ok(['groups', 'remove', 'finance', '--user', 'gail']);
    await ok(['groups', 'delete', 'finance']);
    const { events } = await audit('--user', 'gail');
    expect(events.map((e) => e.type)).to.include.members(['group.assigned', 'group.removed', 'user.created']);
  });

  it('who signed in to what: sessions list | revoke, audit by username and client; unknown type is refused', async () => {
    const { client_id: rp } = await ok(['clients', 'create', '--name', 'Intranet', '--redirect-uri', 'https://intranet.example.com/cb', '--first-party', '--type', 'public']);
    await ok(['users', 'create', '--username', 'hana', '--password-stdin'], 'hana password 1');
    const auth = new URL(`${gatehouse.url}/auth`);
    auth.search = new URLSearchParams({ client_id: rp, response_type: 'code', redirect_uri: 'https://intranet.example.com/cb', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString();
    const { callback } = await signIn(new UserAgent(), auth.toString(), 'https://intranet.example.com/cb', { username: 'hana', password: 'hana password 1' });
    expect(callback.searchParams.get('code')).to.be.a('string');
    await gatehouse.audit.flush();

    const signIns = await audit('--user', 'hana', '--type', 'signin.success');
    expect(signIns.events).to.have.length(1);
    expect(signIns.events[0]).to.deep.include({ client: rp });
    expect(signIns.events[0]!.actor).to.deep.include({ type: 'user', username: 'hana' });
    expect(signIns.events[0]!.ip).to.match(/127\.0\.0\.1/);
    expect((await audit('--client', rp, '--type', 'signin.success')).events).to.have.length(1);

    const sessions = await ok(['sessions', 'list', '--user', 'hana']);
    expect(sessions).to.have.length(1);
    expect(sessions[0].clients).to.deep.equal([rp]);
    expect(await ok(['sessions', 'revoke', '--user', 'hana', '--', sessions[0].id])).to.include({ revoked: true });
    expect(await ok(['sessions', 'list', '--user', 'hana'])).to.deep.equal([]);
    // A session id without --user: the message names what is missing (it said the session id was).
    // The id goes after `--`: 1 in 64 starts with '-' (the unit test of cli-help covers that case).
    const noUser = await cli(['sessions', 'revoke', '--', sessions[0].id]);
    expect(noUser.code).to.equal(2);
    expect(noUser.stderr).to.equal('gatehouse: sessions revoke: USER is required (or --user USER); see gatehouse sessions revoke --help\n');
    const revoked = await audit('--user', 'hana', '--type', 'session.revoked');
    expect(revoked.events[0]!.actor.type).to.equal('cli');

    const unknown = await cli(['audit', '--type', 'signin.nonsense']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.equal('gatehouse: --type: unknown event type (see the README for the list)\n');
    const paged = await audit('--limit', '2');
    expect(paged.events).to.have.length(2);
    const older = await audit('--limit', '2', '--before', paged.next!);
    expect(older.events.map((e) => e.type)).to.have.length(2);
  });

  it('consents list | revoke: what a user allowed a third-party app, kept across sessions; revoked, the app asks again', async () => {
    const { client_id: app } = await ok(['clients', 'create', '--name', 'Wiki', '--redirect-uri', 'https://wiki.example.com/cb', '--type', 'public']);
    await ok(['users', 'create', '--username', 'ines', '--password-stdin'], 'ines password 1');
    const auth = new URL(`${gatehouse.url}/auth`);
    auth.search = new URLSearchParams({ client_id: app, response_type: 'code', redirect_uri: 'https://wiki.example.com/cb', scope: 'openid profile', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString();
    const signInTo = () => signIn(new UserAgent(), auth.toString(), 'https://wiki.example.com/cb', { username: 'ines', password: 'ines password 1' });
    expect((await signInTo()).sawConsent).to.equal(true);
    expect((await signInTo()).sawConsent, 'remembered').to.equal(false);
    const listed = await ok(['consents', 'list', '--user', 'ines']);
    expect(listed).to.have.length(1);
    expect(listed[0]).to.include({ client_id: app });
    expect(listed[0].scopes).to.have.members(['openid', 'profile']);
    expect(await ok(['consents', 'revoke', app, '--user', 'ines'])).to.deep.include({ client_id: app, consent: true, grants: 2 });
    expect(await ok(['consents', 'list', '--user', 'ines'])).to.deep.equal([]);
    expect((await signInTo()).sawConsent, 'asked again').to.equal(true);
    const missing = await cli(['consents', 'revoke', 'no-such-app', '--user', 'ines']);
    expect(missing.code).to.not.equal(0);
    expect(missing.stderr).to.include('no-such-app');
    await gatehouse.audit.flush();
    expect((await audit('--type', 'consent.revoked')).events[0]!.actor.type).to.equal('cli');
  });
});
