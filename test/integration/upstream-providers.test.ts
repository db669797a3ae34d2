import { expect } from 'chai';
import mongoose from 'mongoose';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { instanceWithCliEnv } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

const SECRET = 'upstream-client-secret-never-shown';

describe('upstream identity providers for operators: admin API, OpenAPI, CLI, secrets at rest, links, audit', function () {
  this.timeout(120_000);
  const database = databaseForSuite('upstream_ops');
  const secret = randomSecret();
  let gatehouse: RunningGatehouse;
  let token: string;
  let env: Record<string, string>;
  const api = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

  before(async () => {
    ({ gatehouse, env } = await instanceWithCliEnv(database.uri, secret));
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
  });

  it('creates from a preset, names the redirect URI to register, never returns the secret and stores it sealed', async () => {
    const created = await api('POST', '/upstream-providers', { alias: 'entra', preset: 'microsoft', tenant: 'contoso.onmicrosoft.com', client_id: 'app-id', client_secret: SECRET });
    expect(created.status).to.equal(201);
    expect(created.body).to.deep.include({
      alias: 'entra',
      kind: 'oidc',
      display_name: 'Microsoft',
      issuer: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0',
      token_endpoint_auth_method: 'client_secret_basic',
      has_secret: true,
      redirect_uri: `${env.GATEHOUSE_ISSUER}/upstream/entra/callback`,
      enabled: true,
      create_accounts: true,
      link_by_email: false,
    });
    expect(JSON.stringify(created.body)).to.not.contain(SECRET);
    expect(JSON.stringify((await api('GET', '/upstream-providers')).body)).to.not.contain(SECRET);

    const connection = await mongoose.createConnection(database.uri).asPromise();
    try {
      const stored = await connection.db!.collection('upstream_providers').findOne({ _id: 'entra' as never });
      expect(JSON.stringify(stored)).to.not.contain(SECRET);
      expect(stored?.secret_sealed).to.match(/^v1\./);
    } finally {
      await connection.close();
    }
    expect((await gatehouse.services.upstream.credentials('entra')).clientSecret).to.equal(SECRET);
  });

  it('answers 400 naming the field, 409 for a taken alias, 404 for an unknown one', async () => {
    const missing = await api('POST', '/upstream-providers', { alias: 'plain', kind: 'oauth2', client_id: 'x', client_secret: 's', authorization_endpoint: 'https://auth.example.com/authorize' });
    expect(missing.status).to.equal(400);
    expect(missing.body.error_description).to.contain('token_endpoint');
    const http = await api('POST', '/upstream-providers', { alias: 'plain', kind: 'oidc', issuer: 'http://idp.example.com', client_id: 'x', client_secret: 's' });
    expect(http.status).to.equal(400);
    expect(JSON.stringify(http.body)).to.contain('issuer');
    const badAlias = await api('POST', '/upstream-providers', { alias: 'Not Valid', kind: 'oidc', issuer: 'https://idp.example.com', client_id: 'x', client_secret: 's' });
    expect(badAlias.status).to.equal(400);
    expect(JSON.stringify(badAlias.body)).to.contain('alias');
    const noKeycloakUrl = await api('POST', '/upstream-providers', { alias: 'kc', preset: 'keycloak', client_id: 'x', client_secret: 's' });
    expect(noKeycloakUrl.status).to.equal(400);
    expect(JSON.stringify(noKeycloakUrl.body)).to.contain('base_url');
    expect((await api('POST', '/upstream-providers', { alias: 'entra', preset: 'google', client_id: 'x', client_secret: 's' })).status).to.equal(409);
    expect((await api('GET', '/upstream-providers/nope')).status).to.equal(404);
    expect((await api('PATCH', '/upstream-providers/nope', { enabled: false })).status).to.equal(404);
  });

  it('updates (a new secret replaces the old, unseen), deletes with its links, and audits each change', async () => {
    const updated = await api('PATCH', '/upstream-providers/entra', { enabled: false, client_secret: 'rotated', allowed_domains: ['Contoso.com'], claims: { username: 'email' } });
    expect(updated.status).to.equal(200);
    expect(updated.body).to.deep.include({ enabled: false, allowed_domains: ['contoso.com'] });
    expect(updated.body.claims).to.deep.include({ username: 'email', subject: 'sub' });
    expect((await gatehouse.services.upstream.credentials('entra')).clientSecret).to.equal('rotated');

    const user = await gatehouse.services.accounts.createUser({ username: 'linked' });
    await gatehouse.services.upstream.link('entra', 'upstream-sub-1', user.id);
    const links = await api('GET', `/users/${user.id}/upstream-links`);
    expect(links.body.map((link: { provider: string; subject: string }) => `${link.provider}/${link.subject}`)).to.deep.equal(['entra/upstream-sub-1']);
    expect((await api('DELETE', `/users/${user.id}/upstream-links/entra/upstream-sub-1`)).status).to.equal(204);
    expect((await api('GET', `/users/${user.id}/upstream-links`)).body).to.deep.equal([]);
    expect((await api('DELETE', `/users/${user.id}/upstream-links/entra/upstream-sub-1`)).status).to.equal(404);

    await gatehouse.services.upstream.link('entra', 'upstream-sub-2', user.id);
    expect((await api('DELETE', '/upstream-providers/entra')).status).to.equal(204);
    expect(await gatehouse.services.upstream.findLink('entra', 'upstream-sub-2')).to.equal(undefined);

    await gatehouse.flushBatchedWrites();
    const audit = await api('GET', '/audit-events?limit=500');
    const types = audit.body.events.map((event: { type: string }) => event.type);
    expect(types).to.include.members(['upstream_provider.created', 'upstream_provider.updated', 'upstream_provider.deleted', 'user.upstream_unlinked']);
    expect(JSON.stringify(audit.body)).to.not.contain('rotated');
  });

  it('keeps both of two PATCHes of one provider sent at once (a rename; a claim mapping and a new secret), 12 rounds', async () => {
    // FerretDB v1 rewrites the whole document on every update, and the claim mapping is merged
    // with the stored one: without the provider's lock one PATCH put back the other's old fields.
    expect((await api('POST', '/upstream-providers', { alias: 'race', preset: 'microsoft', tenant: 'race.onmicrosoft.com', client_id: 'race-app', client_secret: 'race-secret-0' })).status).to.equal(201);
    const lost: string[] = [];
    for (let round = 1; round <= 12; round += 1) {
      const [renamed, remapped] = await Promise.all([
        api('PATCH', '/upstream-providers/race', { display_name: `Race ${round}`, claims: { name: `name_${round}` } }),
        api('PATCH', '/upstream-providers/race', { client_secret: `race-secret-${round}`, claims: { username: `user_${round}` } }),
      ]);
      expect([renamed.status, remapped.status]).to.deep.equal([200, 200]);
      const stored = (await api('GET', '/upstream-providers/race')).body;
      if (stored.display_name !== `Race ${round}`) lost.push(`${round}: display_name ${stored.display_name}`);
      if (stored.claims.name !== `name_${round}`) lost.push(`${round}: claims.name ${stored.claims.name}`);
      if (stored.claims.username !== `user_${round}`) lost.push(`${round}: claims.username ${stored.claims.username}`);
      const { clientSecret } = await gatehouse.services.upstream.credentials('race');
      if (clientSecret !== `race-secret-${round}`) lost.push(`${round}: secret of round ${clientSecret?.slice('race-secret-'.length)}`);
    }
    expect(lost, 'rounds that lost part of one PATCH').to.deep.equal([]);
  });

  it('hides a provider from the sign-in page with hide_on_login (Keycloak hideOnLogin): admin API, OpenAPI, 400 naming the field', async () => {
    const created = await api('POST', '/upstream-providers', { alias: 'quiet', preset: 'google', client_id: 'q', client_secret: 's' });
    expect(created.body.hide_on_login, 'shown by default').to.equal(false);
    const hidden = await api('PATCH', '/upstream-providers/quiet', { hide_on_login: true });
    expect(hidden.status).to.equal(200);
    expect(hidden.body).to.deep.include({ hide_on_login: true, enabled: true });
    expect((await gatehouse.services.upstream.get('quiet'))?.hide_on_login).to.equal(true);
    const wrong = await api('PATCH', '/upstream-providers/quiet', { hide_on_login: 'yes' });
    expect(wrong.status).to.equal(400);
    expect(JSON.stringify(wrong.body)).to.contain('hide_on_login');
    const openapi = await callAdmin(gatehouse.url, undefined, 'GET', '/openapi.json');
    const bodySchema = (path: string, method: string) => JSON.stringify(openapi.body.paths[path][method].requestBody.content['application/json'].schema);
    expect(bodySchema('/upstream-providers', 'post')).to.contain('hide_on_login').and.contain('kc_idp_hint');
    expect(bodySchema('/upstream-providers/{alias}', 'patch')).to.contain('hide_on_login');
    expect((await api('DELETE', '/upstream-providers/quiet')).status).to.equal(204);
  });

  it('is the same through the CLI: idps create (secret from stdin), list, get, update, links, delete', async () => {
    const cli = async (args: string[], stdin?: string) => {
      const result = await runCli([...args, '--json'], env, stdin);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(0);
      return JSON.parse(result.stdout);
    };
    const created = await cli(['idps', 'create', '--alias', 'gh', '--preset', 'github', '--client-id', 'Iv1.abc', '--client-secret-stdin', '--role-map', 'login=octo:admin', '--home-domain', 'octo.example'], 'gh-secret');
    expect(created).to.deep.include({ alias: 'gh', kind: 'oauth2', has_secret: true, userinfo_endpoint: 'https://api.github.com/user', home_domains: ['octo.example'] });
    expect(created.role_mappings).to.deep.equal([{ claim: 'login', value: 'octo', role: 'admin' }]);
    // CLAIM=VALUE->NAME, as the console writes rules: a name with a space or a colon (a Keycloak client
    // role), which CLAIM=VALUE:NAME splits at its last colon.
    const arrows = await cli(['idps', 'update', 'gh', '--role-map', 'groups = Order Admins -> shop:Gift Card', '--role-map', 'memberOf=CN=Ops,DC=corp->ops', '--group-map', 'department=Sales Team->/Sales Team']);
    expect(arrows.role_mappings).to.deep.equal([
      { claim: 'groups', value: 'Order Admins', role: 'shop:Gift Card' },
      { claim: 'memberOf', value: 'CN=Ops,DC=corp', role: 'ops' },
    ]);
    expect(arrows.group_mappings).to.deep.equal([{ claim: 'department', value: 'Sales Team', group: '/Sales Team' }]);
    for (const [entry, why] of [
      ['groups=->admin', 'the value between = and -> is empty'],
      ['groups=admins->', 'the name after -> is empty'],
      ['=admins->admin', 'the claim before = is empty'],
      ['groups admins->admin', 'takes CLAIM=VALUE->ROLE'],
    ]) {
      const refused = await runCli(['idps', 'update', 'gh', '--role-map', entry!], env);
      expect(refused.code, entry).to.equal(2);
      expect(refused.stderr, entry).to.include(`--role-map ${entry}`).and.include(why!);
    }
    expect(JSON.stringify(created)).to.not.contain('gh-secret');
    expect((await cli(['idps', 'list'])).map((idp: { alias: string }) => idp.alias)).to.include('gh');
    expect(await cli(['idps', 'update', 'gh', '--disabled', '--client', 'portal'])).to.deep.include({ enabled: false, clients: ['portal'] });
    expect((await cli(['idps', 'get', 'gh'])).enabled).to.equal(false);
    expect((await cli(['idps', 'update', 'gh', '--hide-on-login'])).hide_on_login).to.equal(true);
    const listed = await runCli(['idps', 'list'], env);
    expect(listed.stdout).to.match(/^gh .*\(hidden on sign-in\)/m);
    expect((await cli(['idps', 'update', 'gh', '--no-hide-on-login'])).hide_on_login).to.equal(false);
    await gatehouse.services.accounts.createUser({ username: 'octo' });
    const octo = await gatehouse.services.accounts.findByLogin('octo');
    await gatehouse.services.upstream.link('gh', '4242', octo!.id);
    expect((await cli(['idps', 'links', 'octo'])).map((link: { subject: string }) => link.subject)).to.deep.equal(['4242']);
    await cli(['idps', 'unlink', 'octo', '--provider', 'gh', '--subject', '4242']);
    expect(await cli(['idps', 'links', 'octo'])).to.deep.equal([]);
    expect(await cli(['idps', 'delete', 'gh'])).to.deep.equal({ deleted: 'gh' });

    const bad = await runCli(['idps', 'create', '--alias', 'x', '--kind', 'oauth2', '--client-id', 'y'], env);
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.equal('gatehouse: --authorization-endpoint: is required for kind oauth2\n');
    const noClientId = await runCli(['idps', 'create', '--alias', 'x', '--preset', 'github'], env);
    expect(noClientId.code).to.equal(2);
    expect(noClientId.stderr).to.equal('gatehouse: --client-id is required (the client id this deployment has at the provider)\n');
  });
});
