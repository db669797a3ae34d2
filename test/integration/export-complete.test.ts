import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { claimScopeCreateSchema } from '../../src/claims/spec.ts';
import { upstreamOperations } from '../../src/operations/upstream.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { asPage, followTo, submitForm, UserAgent, type AgentPage } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';
import { emptyDatabase } from '../helpers/stores.ts';

const SYSTEM_ACTOR = { actor: { type: 'system' as const, id: 'test' } };
const MARK = { kind: 'keycloak' as const, realm: 'acme' };
const OLD_FORMAT = join(import.meta.dirname, '../fixtures/export-before-claim-scopes.json');

/**
 * A cookie jar per host: the upstream Gatehouse (on `localhost`) and the one under test (on
 * 127.0.0.1) set cookies of the same names, which one jar would mix up.
 */
class HostAgent extends UserAgent {
  private readonly jars = new Map<string, Map<string, string>>();
  override async request(url: string, init: RequestInit = {}): Promise<Response> {
    const host = new URL(url).host;
    const jar = this.jars.get(host) ?? new Map<string, string>();
    this.jars.set(host, jar);
    this.cookies.clear();
    for (const [name, value] of jar) this.cookies.set(name, value);
    const response = await super.request(url, init);
    jar.clear();
    for (const [name, value] of this.cookies) jar.set(name, value);
    return response;
  }
}

/**
 * `gatehouse export` → an empty Gatehouse → `gatehouse import` gives back what an operator
 * manages beyond clients and users: claim scopes (with the Keycloak import's mark), upstream
 * providers (their client secrets and private keys opened for the file and sealed again under the
 * target's GATEHOUSE_SECRET, their marks) and users' links to them, and the runtime settings
 * operators changed. Proven by use: after the sealed file is imported into an empty database, a
 * linked user signs in through the upstream provider (a third Gatehouse, which checks the client
 * secret the target opened) and the application's ID token carries the claim scope's claims.
 * Real stores, the CLI in this process, a browserless agent.
 */
describe('export → import of claim scopes, upstream providers and links, runtime settings (real stores, CLI)', function () {
  this.timeout(300_000);
  const tag = randomBytes(4).toString('hex');
  const clearFile = join(tmpdir(), `gatehouse-export-all-${tag}.json`);
  const sealedFile = join(tmpdir(), `gatehouse-export-all-sealed-${tag}.json`);
  const passFile = join(tmpdir(), `gatehouse-export-all-${tag}.pass`);
  const broken = join(tmpdir(), `gatehouse-export-all-broken-${tag}.json`);
  let idp: Deployment;
  let upstream: RunningGatehouse;
  let source: Deployment;
  let target: Deployment;
  let other: Deployment;
  let sourcePort = 0;
  let portal = { clientId: '', secret: '' };
  let upstreamClient = { clientId: '', secret: '' };
  let umaSub = '';
  let localUma = '';
  let privateJwk: Record<string, unknown> = {};
  const cliEnv = (deploy: Deployment) => ({ NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, ...(deploy.redisUrl ? { REDIS_URL: deploy.redisUrl } : {}), GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings });

  /** What the deployment holds of the new sections, as comparable values (dates as ISO text). */
  async function holdings(gatehouse: RunningGatehouse) {
    const { claimScopes, upstream: directory, runtimeSettings } = gatehouse.services;
    const providers = await directory.list();
    return {
      claimScopes: (await claimScopes.list()).map((scope) => JSON.parse(JSON.stringify(scope)) as unknown),
      providers: providers.map((provider) => JSON.parse(JSON.stringify(provider)) as unknown),
      credentials: await Promise.all(providers.map((provider) => directory.credentials(provider.alias))),
      links: (await directory.linksOf(localUma)).map((link) => JSON.parse(JSON.stringify(link)) as unknown),
      settings: {
        default_roles: (await runtimeSettings.signIn.read()).settings.default_roles,
        mfa_required_groups: (await runtimeSettings.mfa.read()).settings.mfa_required_groups,
        password_history: (await runtimeSettings.passwordPolicy.read()).settings.password_history,
      },
    };
  }

  before(async () => {
    idp = await deployment('export_all_idp', { host: 'localhost' });
    source = await deployment('export_all_source');
    sourcePort = Number(new URL(source.issuer).port);
    // The same issuer (a restore of the deployment), so the redirect URI registered upstream is its own; the password policy's minimum pinned by its environment.
    target = await deployment('export_all_target', { issuer: source.issuer, settings: { GATEHOUSE_PASSWORD_MIN_LENGTH: '10' } });
    other = await deployment('export_all_other', { issuer: source.issuer });
    writeFileSync(passFile, `passphrase-${randomBytes(12).toString('hex')}\n`, { mode: 0o600 });

    upstream = await idp.start();
    umaSub = (await upstream.services.accounts.createUser({ username: 'uma', password: PASSWORD, email: 'uma@corp.example', emailVerified: true })).id;
    const created = await upstream.services.clients.create({
      displayName: 'Gatehouse downstream',
      firstParty: true,
      metadata: { redirect_uris: [`${source.issuer}/upstream/corp/callback`], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile email' },
    });
    upstreamClient = { clientId: created.client.clientId, secret: created.secret! };

    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    privateJwk = { ...(await exportJWK(privateKey)), kid: 'gatehouse-at-partner' };
    const gatehouse = await source.start();
    try {
      const { services } = gatehouse;
      await services.roles.create('auditor', 'reads the books');
      await services.groups.create('finance', 'the finance team');
      await services.claimScopes.create(
        claimScopeCreateSchema.parse({
          name: 'department',
          description: { en: 'See your department', ko: '부서 보기' },
          mappers: [
            { type: 'user_attribute', attribute: 'department', claim: 'department' },
            { type: 'hardcoded', claim: 'org.name', value: 'Acme', userinfo: false, introspection: false },
          ],
        }),
      );
      await services.claimScopes.create(claimScopeCreateSchema.parse({ name: 'kc-tenant', mappers: [{ type: 'hardcoded', claim: 'tenant', value: 42 }] }), MARK);
      const client = await services.clients.create({
        displayName: 'Portal',
        firstParty: true,
        metadata: { redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile email department' },
      });
      portal = { clientId: client.client.clientId, secret: client.secret! };
      const providers = upstreamOperations(services);
      await providers.create(SYSTEM_ACTOR, { alias: 'corp', kind: 'oidc', display_name: 'Corp', issuer: idp.issuer, client_id: upstreamClient.clientId, client_secret: upstreamClient.secret, scopes: ['openid', 'profile', 'email'], create_accounts: false });
      await providers.create(SYSTEM_ACTOR, { alias: 'partner', kind: 'oauth2', display_name: 'Partner', authorization_endpoint: 'https://partner.example/authorize', token_endpoint: 'https://partner.example/token', userinfo_endpoint: 'https://partner.example/me', client_id: 'gh', private_key_jwk: privateJwk, enabled: false });
      await services.upstream.update('partner', {}, {}, MARK);
      localUma = (await services.accounts.createUser({ username: 'uma-local', email: 'uma@corp.example', emailVerified: true, customAttributes: { department: ['eng'] } })).id;
      await services.upstream.link('corp', umaSub, localUma, 'uma@corp.example');
      await services.runtimeSettings.signIn.update({ default_roles: ['auditor'] });
      await services.runtimeSettings.mfa.update({ mfa_required_groups: ['finance'] });
      await services.runtimeSettings.passwordPolicy.update({ password_min_length: 14, password_history: 4 });
    } finally {
      await gatehouse.close();
    }
  });
  after(async () => {
    for (const path of [clearFile, sealedFile, passFile, broken]) rmSync(path, { force: true });
    await upstream?.close();
    for (const deploy of [idp, source, target, other]) await deploy?.drop();
  });

  it('the file holds the sections, the secrets opened for it and the marks; the dry run counts them', async () => {
    const exported = await runCli(['export', '--output', clearFile, '--unencrypted', '--json'], cliEnv(source));
    expect(exported.code, exported.stderr).to.equal(0);
    expect(JSON.parse(exported.stdout)).to.deep.include({ claim_scopes: 2, upstream_providers: 2, upstream_links: 1, settings: 4 });
    const file = JSON.parse(readFileSync(clearFile, 'utf8')) as Record<string, unknown> & { claim_scopes: Array<Record<string, unknown>>; upstream_providers: Array<Record<string, unknown>>; upstream_links: unknown[]; settings: Record<string, unknown> };
    expect(file.contains_upstream_secrets).to.equal(true);
    expect(file.claim_scopes.map((scope) => [scope.name, scope.imported_from])).to.deep.equal([['department', undefined], ['kc-tenant', MARK]]);
    const [corp, partner] = file.upstream_providers;
    expect(corp).to.deep.include({ alias: 'corp', client_secret: upstreamClient.secret, private_key_jwk: null });
    expect(corp).not.to.have.property('imported_from');
    expect(partner).to.deep.include({ alias: 'partner', client_secret: null, private_key_jwk: privateJwk, imported_from: MARK });
    expect(file.upstream_links).to.deep.equal([{ provider: 'corp', subject: umaSub, userId: localUma, label: 'uma@corp.example', createdAt: (file.upstream_links[0] as { createdAt: string }).createdAt, lastSignInAt: (file.upstream_links[0] as { lastSignInAt: string }).lastSignInAt }]);
    expect(file.settings).to.deep.include({ 'sign-in': { default_roles: ['auditor'] }, mfa: { mfa_required_groups: ['finance'] }, 'password-policy': { password_min_length: 14, password_history: 4 } });

    const checked = await runCli(['import', '--input', clearFile, '--dry-run', '--json'], cliEnv(target));
    expect(checked.code, checked.stderr).to.equal(0);
    expect(JSON.parse(checked.stdout)).to.deep.include({ dry_run: true, claim_scopes: 2, upstream_providers: 2, upstream_links: 1, settings: 4 });
  });

  it('the sealed file into an empty deployment: everything equal, the pinned setting reported; an upstream sign-in works and the claim scope gives its claims', async () => {
    const sealed = await runCli(['export', '--output', sealedFile, '--passphrase-file', passFile, '--json'], cliEnv(source));
    expect(sealed.code, sealed.stderr).to.equal(0);
    expect(readFileSync(sealedFile, 'utf8')).not.to.include(upstreamClient.secret).and.not.include(String(privateJwk.d));
    const gatehouse = await source.start();
    const expected = await holdings(gatehouse).finally(() => gatehouse.close());

    await emptyDatabase(target.mongodbUri);
    const imported = await runCli(['import', '--input', sealedFile, '--passphrase-file', passFile, '--json'], cliEnv(target));
    expect(imported.code, imported.stderr).to.equal(0);
    const summary = JSON.parse(imported.stdout) as Record<string, unknown>;
    expect(summary).to.deep.include({
      claim_scopes: { created: 2, updated: 0 },
      upstream_providers: { created: 2, updated: 0 },
      upstream_links: { created: 1, unchanged: 0, conflicts: 0 },
      conflicts: [],
      conflicts_total: 0,
    });
    expect(summary.settings).to.deep.equal({
      changed: ['sign-in.default_roles', 'password-policy.password_history', 'mfa.mfa_required_groups'],
      pinned: [{ setting: 'password-policy.password_min_length', variable: 'GATEHOUSE_PASSWORD_MIN_LENGTH' }],
    });

    const restored = await target.start(sourcePort);
    try {
      expect(await holdings(restored)).to.deep.equal(expected);
      expect((await restored.services.runtimeSettings.passwordPolicy.read()).settings.password_min_length, 'pinned here').to.equal(10);
      const stored = await connectMongo({ uri: target.mongodbUri, timeoutMs: 5000 });
      try {
        const corp = await stored.collection('upstream_providers').findOne({ _id: 'corp' as never });
        expect(JSON.stringify(corp), 'sealed at rest').not.to.include(upstreamClient.secret);
      } finally {
        await stored.close();
      }

      // uma, linked to the upstream identity: through the upstream provider straight back to the portal (the code redeemed upstream with the secret the target opened).
      const config = await relyingParty(source.issuer, portal.clientId, portal.secret);
      const request = await authorizationRequest(config, REDIRECT_URI, { scope: 'openid department' });
      const agent = new HostAgent();
      const login = asPage(await followTo(agent, request.url.href, REDIRECT_URI));
      const button = /<a class="button secondary upstream" href="([^"]+)" data-provider="corp"/.exec(login.html);
      expect(button, 'the corp button on the sign-in page').to.not.equal(null);
      const upstreamLogin = asPage(await followTo(agent, new URL(button![1]!.replace(/&amp;/g, '&'), login.url).href, REDIRECT_URI));
      expect(new URL(upstreamLogin.url).origin).to.equal(idp.issuer);
      let next: AgentPage | URL = await submitForm(agent, upstreamLogin, 'login', { login: 'uma', password: PASSWORD }, REDIRECT_URI);
      for (let step = 0; step < 3 && !(next instanceof URL); step += 1) {
        // Back from the upstream: the page that continues the sign-in here (a link its script follows).
        const onward = /<a class="button primary" href="([^"]+)" id="upstream-continue"/.exec(next.html);
        if (onward === null) expect.fail(`no way on at ${next.url}: ${next.html.replace(/<style[\s\S]*?<\/style>/, '').replace(/\s+/g, ' ').slice(0, 600)}`);
        next = await followTo(agent, new URL(onward[1]!.replace(/&amp;/g, '&'), next.url).href, REDIRECT_URI);
      }
      const tokens = await oidc.authorizationCodeGrant(config, next as URL, request.checks);
      const claims = decodeJwt(tokens.id_token!);
      expect(claims).to.deep.include({ sub: localUma, department: 'eng', org: { name: 'Acme' } });
      expect(claims.amr).to.include('fed');
    } finally {
      await restored.close();
    }
  });

  it('into a deployment that holds a claim and an upstream identity already: conflicts reported, what is here kept', async () => {
    let gatehouse = await other.start();
    try {
      const { services } = gatehouse;
      await services.claimScopes.create(claimScopeCreateSchema.parse({ name: 'division', mappers: [{ type: 'hardcoded', claim: 'department', value: 'here' }] }));
      const someone = await services.accounts.createUser({ username: 'someone' });
      await services.upstream.link('corp', umaSub, someone.id);
    } finally {
      await gatehouse.close();
    }
    const imported = await runCli(['import', '--input', clearFile, '--json'], cliEnv(other));
    expect(imported.code, imported.stderr).to.equal(0);
    const summary = JSON.parse(imported.stdout) as { conflicts: Array<{ kind: string; name: string }>; conflicts_total: number; upstream_links: unknown; claim_scopes: unknown };
    expect(summary.conflicts.map(({ kind, name }) => `${kind} ${name}`)).to.deep.equal(['claim scope department', `upstream link corp ${umaSub}`]);
    expect(summary.conflicts_total).to.equal(2);
    expect(summary.upstream_links).to.deep.equal({ created: 0, unchanged: 0, conflicts: 1 });
    gatehouse = await other.start();
    try {
      const { services } = gatehouse;
      expect((await services.claimScopes.get('division'))?.mappers.map((mapper) => mapper.claim)).to.deep.equal(['department']);
      expect((await services.claimScopes.get('department'))?.mappers.map((mapper) => mapper.claim)).to.deep.equal(['org.name']);
      expect((await services.upstream.findLink('corp', umaSub))?.userId).to.not.equal(localUma);
      expect(await services.upstream.linksOf(localUma)).to.deep.equal([]);
    } finally {
      await gatehouse.close();
    }
    // Again, without --json: the conflicts said in words.
    const again = await runCli(['import', '--input', clearFile], cliEnv(other));
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.include('conflict: claim scope department: claim department is given by claim scope division here').and.include(`conflict: upstream link corp ${umaSub}: this upstream identity is linked to another user here`);
  });

  it('a section of the wrong shape is refused naming the field, in the dry run and the import, and nothing is written', async () => {
    const file = JSON.parse(readFileSync(clearFile, 'utf8')) as Record<string, unknown>;
    const cases: Array<[string, (copy: Record<string, any>) => void, string]> = [
      ['a reserved claim', (copy) => (copy.claim_scopes[0].mappers[0].claim = 'sub'), 'claim_scopes.0.mappers.0.claim'],
      ['a claim two scopes give', (copy) => (copy.claim_scopes[1].mappers[0].claim = 'department'), 'claim_scopes.1.mappers.0.claim'],
      ['claim scopes not a list', (copy) => (copy.claim_scopes = { department: {} }), 'claim_scopes'],
      ['an unknown kind', (copy) => (copy.upstream_providers[0].kind = 'saml'), 'upstream_providers.0.kind'],
      ['a plain-http issuer', (copy) => (copy.upstream_providers[0].issuer = 'http://idp.example.com'), 'upstream_providers.0.issuer'],
      ['a secret that is not text', (copy) => (copy.upstream_providers[0].client_secret = 42), 'upstream_providers.0.client_secret'],
      ['an unknown provider field', (copy) => (copy.upstream_providers[1].secret_sealed = 'v1.x'), 'upstream_providers.1.secret_sealed'],
      ['an alias twice', (copy) => (copy.upstream_providers[1].alias = 'corp'), 'upstream_providers.1.alias'],
      ['a link without its user', (copy) => delete copy.upstream_links[0].userId, 'upstream_links.0.userId'],
      ['an unknown setting', (copy) => (copy.settings.mfa = { mfa_required_role: ['x'] }), 'settings.mfa.mfa_required_role'],
      ['an unknown settings group', (copy) => (copy.settings.themes = {}), 'settings.themes'],
      ['a setting out of range', (copy) => (copy.settings['sign-in'] = { password_reset_ttl: 5 }), 'settings.sign-in.password_reset_ttl'],
    ];
    for (const [what, change, field] of cases) {
      const copy = structuredClone(file) as Record<string, any>;
      change(copy);
      writeFileSync(broken, JSON.stringify(copy), { mode: 0o600 });
      for (const dryRun of [['--dry-run'], []]) {
        const exit = await runCli(['import', '--input', broken, ...dryRun], cliEnv(target));
        expect(exit.code, `${what} ${dryRun.join('')}: ${exit.stdout}`).to.equal(2);
        expect(exit.stderr, `${what} ${dryRun.join('')}`).to.include(`${field}:`);
        expect(exit.stderr, what).not.to.match(/internal|stack|at .*\.ts:/);
      }
    }
    // A role the settings name that neither the file nor the deployment has: refused before the first write.
    await emptyDatabase(target.mongodbUri);
    const copy = structuredClone(file) as Record<string, any>;
    copy.settings.mfa = { mfa_required_roles: ['auditor', 'nobody-has-it'] };
    writeFileSync(broken, JSON.stringify(copy), { mode: 0o600 });
    const exit = await runCli(['import', '--input', broken], cliEnv(target));
    expect(exit.code, exit.stdout).to.equal(2);
    expect(exit.stderr).to.include('settings.mfa.mfa_required_roles.1:').and.include('nobody-has-it');
    const stored = await connectMongo({ uri: target.mongodbUri, timeoutMs: 5000 });
    try {
      expect(await stored.collection('users').countDocuments(), 'nothing written').to.equal(0);
      expect(await stored.collection('claim_scopes').countDocuments(), 'nothing written').to.equal(0);
    } finally {
      await stored.close();
    }
  });

  it('a file written before these sections existed still imports, and leaves what is here as it is', async () => {
    await emptyDatabase(target.mongodbUri);
    const first = await runCli(['import', '--input', clearFile, '--json'], cliEnv(target));
    expect(first.code, first.stderr).to.equal(0);
    const checked = await runCli(['import', '--input', OLD_FORMAT, '--dry-run', '--json'], cliEnv(target));
    expect(checked.code, checked.stderr).to.equal(0);
    expect(JSON.parse(checked.stdout)).to.deep.include({ clients: 1, users: 1, claim_scopes: 0, upstream_providers: 0, upstream_links: 0, settings: 0 });
    const imported = await runCli(['import', '--input', OLD_FORMAT, '--json'], cliEnv(target));
    expect(imported.code, imported.stderr).to.equal(0);
    expect(JSON.parse(imported.stdout)).to.deep.include({
      clients: { created: 1, updated: 0 },
      users: { created: 1, updated: 0 },
      claim_scopes: { created: 0, updated: 0 },
      upstream_providers: { created: 0, updated: 0 },
      settings: { changed: [], pinned: [] },
    });
    const gatehouse = await target.start(sourcePort);
    try {
      const { services } = gatehouse;
      expect((await services.accounts.findByLogin('olga'))?.roles).to.deep.equal(['legacy-staff']);
      expect((await services.claimScopes.list()).map((scope) => scope.name)).to.deep.equal(['department', 'kc-tenant']);
      expect((await services.upstream.list()).map((provider) => provider.alias)).to.deep.equal(['corp', 'partner']);
      expect((await services.runtimeSettings.signIn.read()).settings.default_roles).to.deep.equal(['auditor']);
    } finally {
      await gatehouse.close();
    }
  });
});
