import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { planKeycloakImport } from '../../src/keycloak/realm-import.ts';
import { parsedDocument } from '../../src/keycloak/export-stream.ts';
import { importKeycloakRealm } from '../../src/operations/keycloak-import.ts';
import { upstreamOperations } from '../../src/operations/upstream.ts';
import { profileOf } from '../../src/upstream/linking.ts';
import type { UpstreamProvider } from '../../src/upstream/directory.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/keycloak/realm-export-idps.json', import.meta.url));
const REALM_EXPORT = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
/** Keycloak's ids of the fixture's users (they stay their sub in Gatehouse). */
const idOf = (username: string) => (REALM_EXPORT.users as Array<{ id: string; username: string }>).find((user) => user.username === username)!.id;
const FAY = idOf('fay');
const GUS = idOf('gus');

describe('Keycloak realm import: identity providers, their mappers and federated identities', function () {
  this.timeout(120_000);
  const actor = { actor: { type: 'system' as const, id: 'test' } };
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;

  before(async () => {
    deploy = await deployment('keycloak_idp_import');
    gatehouse = await deploy.start();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  describe('mapping (pure)', () => {
    const plan = planKeycloakImport(REALM_EXPORT);
    const provider = (alias: string) => plan.upstreamProviders.find((planned) => planned.settings.alias === alias)!;
    const unmapped = (kind: string, name: string) => plan.unmapped.filter((item) => item.kind === kind && item.name === name).map((item) => item.reason).join(' | ');

    it('maps a Keycloak OIDC provider: issuer, client, secret, trustEmail, sync mode, logout, mappers', () => {
      const corp = provider('corp-keycloak');
      expect(corp.settings).to.deep.include({
        kind: 'oidc',
        display_name: 'Corp SSO',
        issuer: 'https://sso.corp.test/realms/corp',
        client_id: 'acme-broker',
        token_endpoint_auth_method: 'client_secret_post',
        scopes: ['openid', 'profile', 'email', 'roles'],
        trust_email: true,
        link_by_email: false,
        create_accounts: true,
        mapping_mode: 'every_sign_in',
        upstream_logout: true,
        hide_on_login: true,
        enabled: true,
      });
      expect(corp.clientSecret).to.equal('corp-broker-secret-0123456789');
      expect(corp.settings.claims).to.include({ username: 'preferred_username', email: 'work_email' });
      // The hard-coded role (everyone who signs in through corp-keycloak is an admin) names Gatehouse's administrator role: never given by an import.
      expect(corp.settings.role_mappings).to.deep.equal([
        { claim: 'groups', value: 'staff', role: 'employee' },
        { claim: 'department', value: 'sales', role: 'orders-api:orders.read' },
      ]);
      expect(corp.settings.group_mappings).to.deep.equal([{ claim: 'department', value: 'engineering', group: '/engineering' }]);
      expect(corp.mapped.join(' | ')).to.include('trustEmail → trust_email').and.include('syncMode FORCE').and.include('hideOnLogin → hide_on_login');
      expect(unmapped('identity provider mapper', 'corp-keycloak/everyone-admin')).to.match(/role admin is Gatehouse's administrator role \(admin console and API\): an import never gives it/);
      expect(corp.mapped.join(' | ')).to.not.include('everyone-admin');
      const signedIn = profileOf({ ...corp.settings, enabled: true } as unknown as UpstreamProvider, { subject: 's-1', claims: { iss: 'https://sso.corp.test/realms/corp', sub: 's-1' }, amr: [], idToken: undefined });
      expect(signedIn.roles).to.deep.equal([]);
      expect(unmapped('identity provider mapper', 'corp-keycloak/regex-admins')).to.match(/regular expression/);
    });

    it('uses the presets for Google and GitHub; a masked or vaulted secret leaves the provider disabled and says so', () => {
      const google = provider('google');
      expect(google.settings).to.deep.include({ kind: 'oidc', issuer: 'https://accounts.google.com', allowed_domains: ['acme.test'], mapping_mode: 'first_sign_in' });
      expect(google.needsSecret).to.equal(true);
      expect(unmapped('identity provider', 'google')).to.match(/masked \(\*{10}\).*gatehouse idps update google --client-secret-stdin/);
      const github = provider('github');
      expect(github.settings).to.deep.include({ kind: 'oauth2', authorization_endpoint: 'https://github.com/login/oauth/authorize' });
      expect(github.settings.claims.subject).to.equal('id');
      expect(unmapped('identity provider', 'github')).to.match(/vault/).and.not.match(/hideOnLogin/);
      expect(github.settings.hide_on_login, 'hideOnLogin in Keycloak').to.equal(true);
      expect(google.settings.hide_on_login).to.equal(false);
    });

    it('renames an alias Gatehouse cannot take, keeps its links, and reports what it cannot carry over', () => {
      const partner = provider('partner-oidc');
      expect(partner.keycloakAlias).to.equal('Partner.OIDC');
      expect(partner.settings).to.deep.include({ kind: 'oauth2', userinfo_endpoint: 'https://login.partner.test/oauth2/userinfo', create_accounts: false, enabled: false });
      expect(partner.needsSecret, 'private_key_jwt signs with Keycloak’s realm key').to.equal(true);
      expect(unmapped('identity provider', 'Partner.OIDC')).to.match(/private_key_jwt/).and.match(/no issuer/).and.match(/linkOnly/).and.match(/validateSignature/);
      expect(unmapped('identity provider', 'partner-saml')).to.match(/SAML identity providers are not supported/);
      expect(unmapped('identity provider mapper', 'partner-saml/saml-role')).to.match(/not imported/);
    });

    it('maps users’ federated identities to links, and reports those of providers it does not import', () => {
      expect(plan.upstreamLinks.map((link) => [link.provider, link.subject, link.userId, link.label])).to.deep.equal([
        ['corp-keycloak', '8b2d6a4e-0f1c-4d3b-a5e7-9c8b7a6d5e4f', FAY, 'fay.f'],
        ['github', '1234567', FAY, 'fayf'],
        ['google', '109876543210987654321', GUS, 'gus@acme.test'],
      ]);
      expect(unmapped('user', 'gus')).to.match(/partner-saml/);
    });
  });

  it('imports the providers (disabled without a secret) and the links; the report lists what was mapped and what was not', async () => {
    const dry = await importKeycloakRealm(gatehouse.services, actor, { realm: parsedDocument(REALM_EXPORT) }, { dryRun: true });
    expect(dry.upstream.created).to.have.members(['corp-keycloak', 'google', 'github', 'partner-oidc']);
    expect(await gatehouse.services.upstream.list()).to.deep.equal([]);

    const report = await importKeycloakRealm(gatehouse.services, actor, { realm: parsedDocument(REALM_EXPORT) }, { dryRun: false });
    expect(report.upstream.created).to.have.members(['corp-keycloak', 'google', 'github', 'partner-oidc']);
    expect(report.upstream.secretsToSet).to.have.members(['google', 'github', 'partner-oidc']);
    expect(report.upstream.mapped['corp-keycloak']).to.include('trustEmail → trust_email');
    expect(report.upstream.links).to.deep.equal({ created: 3, unchanged: 0 });
    expect(report.unmapped.some((item) => item.kind === 'identity provider' && item.name === 'partner-saml')).to.equal(true);

    const corp = (await gatehouse.services.upstream.get('corp-keycloak'))!;
    expect(corp).to.deep.include({ enabled: true, has_secret: true, hide_on_login: true });
    expect((await gatehouse.services.upstream.credentials('corp-keycloak')).clientSecret).to.equal('corp-broker-secret-0123456789');
    expect(await gatehouse.services.upstream.get('google')).to.deep.include({ enabled: false, has_secret: false });
    expect((await gatehouse.services.upstream.findLink('github', '1234567'))?.userId).to.equal(FAY);
    expect((await gatehouse.services.upstream.linksOf(GUS)).map((link) => [link.provider, link.label])).to.deep.equal([['google', 'gus@acme.test']]);
    // Signs in only through identity providers: no password (the account page will not let the last link go).
    expect((await gatehouse.services.accounts.findById(FAY))?.passwordChangedAt).to.equal(null);
  });

  it('is idempotent, and a secret set since keeps a masked provider enabled as Keycloak had it', async () => {
    await upstreamOperations(gatehouse.services).update(actor, 'google', { client_secret: 'set-by-the-operator', enabled: true });
    const again = await importKeycloakRealm(gatehouse.services, actor, { realm: parsedDocument(REALM_EXPORT) }, { dryRun: false });
    expect(again.upstream.updated).to.have.members(['corp-keycloak', 'google', 'github', 'partner-oidc']);
    expect(again.upstream.links).to.deep.equal({ created: 0, unchanged: 3 });
    expect(again.upstream.secretsToSet).to.have.members(['github', 'partner-oidc']);
    expect(await gatehouse.services.upstream.get('google')).to.deep.include({ enabled: true, has_secret: true });
    expect((await gatehouse.services.upstream.credentials('google')).clientSecret).to.equal('set-by-the-operator');
  });

  it('never moves a link that belongs to another Gatehouse user: a conflict', async () => {
    await gatehouse.services.upstream.unlink(FAY, 'github', '1234567');
    const other = await gatehouse.services.accounts.createUser({ username: 'someone-else', email: 'else@example.com' });
    await gatehouse.services.upstream.link('github', '1234567', other.id);
    const report = await importKeycloakRealm(gatehouse.services, actor, { realm: parsedDocument(REALM_EXPORT) }, { dryRun: false });
    expect(report.conflicts).to.deep.include({ user: 'fay', reason: 'the github identity 1234567 is linked to another Gatehouse user' });
    expect((await gatehouse.services.upstream.findLink('github', '1234567'))?.userId).to.equal(other.id);
  });
});
