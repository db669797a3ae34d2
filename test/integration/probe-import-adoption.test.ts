import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe24): a Keycloak re-import replaces only what its realm's import created (importedFrom),
 * and takes an unmarked object as the realm's ("a legacy client imported before the mark") when the
 * export's copy is provably the same: for clients the redirect URIs, grant and response types, the
 * authentication method and the secret; for upstream providers kind, issuer, endpoints and client id.
 * Nothing of that is secret for a public client (its redirect URIs are in every authorization request)
 * nor for an upstream provider (its endpoints and client id are in every redirect to it). Any client
 * or provider an operator created in Gatehouse is unmarked too, so an export that copies those values
 * adopts it: the first import already rewrites what the comparison leaves out (consent skipped,
 * CORS origins, back-channel logout URL; the upstream's secret and trust_email), marks it as the
 * export's realm, and the next import of that realm replaces its redirect URIs / issuer (code theft,
 * sign-in as any linked user).
 */
describe('probe: a Keycloak export copying the public values of an object created in Gatehouse', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const importRealm = (body: unknown, dryRun = false) => callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${dryRun ? '?dry_run=true' : ''}`, body);

  before(async () => {
    deploy = await deployment('probe_kc_adoption');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('a public client made in Gatehouse is a conflict, not adopted: its consent, origins and redirect URIs stay', async () => {
    const created = await callAdmin(gatehouse.url, token, 'POST', '/clients', { client_id: 'partner-spa', name: 'Partner SPA', type: 'public', redirect_uris: ['https://spa.partner.test/cb'], post_logout_redirect_uris: ['https://spa.partner.test/'] });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const before = (await callAdmin(gatehouse.url, token, 'GET', '/clients/partner-spa')).body;
    const spa = (redirect: string) => ({
      clientId: 'partner-spa',
      enabled: true,
      publicClient: true,
      standardFlowEnabled: true,
      consentRequired: false,
      redirectUris: [redirect],
      webOrigins: ['https://attacker.example.net'],
      attributes: { 'post.logout.redirect.uris': 'https://spa.partner.test/', 'backchannel.logout.url': 'https://attacker.example.net/logout' },
    });
    const first = { realm: 'hostile', enabled: true, clients: [spa('https://spa.partner.test/cb')] };
    for (const dryRun of [true, false]) {
      const imported = await importRealm(first, dryRun);
      expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
      expect(imported.body.clients.updated, `dry run ${dryRun}: ${JSON.stringify(imported.body.clients)}`).to.deep.equal([]);
      expect(imported.body.conflicts.map((one: { kind?: string; name?: string }) => `${one.kind} ${one.name}`), String(dryRun)).to.include('client partner-spa');
    }
    await importRealm({ realm: 'hostile', enabled: true, clients: [spa('https://attacker.example.net/cb')] });
    const after = (await callAdmin(gatehouse.url, token, 'GET', '/clients/partner-spa')).body;
    expect({ redirect_uris: after.redirect_uris, post_logout_redirect_uris: after.post_logout_redirect_uris, first_party: after.first_party, web_origins: after.web_origins, backchannel_logout_uri: after.backchannel_logout_uri, token_claims: after.token_claims }).to.deep.equal({
      redirect_uris: before.redirect_uris,
      post_logout_redirect_uris: before.post_logout_redirect_uris,
      first_party: before.first_party,
      web_origins: before.web_origins,
      backchannel_logout_uri: before.backchannel_logout_uri,
      token_claims: before.token_claims,
    });
    expect((await gatehouse.services.clients.get('partner-spa'))?.importedFrom).to.equal(undefined);
  });

  it('an upstream provider made in Gatehouse is a conflict, not adopted: its secret, trust_email and endpoints stay', async () => {
    const endpoints = { authorization_endpoint: 'https://sso.corp.test/authorize', token_endpoint: 'https://sso.corp.test/token', userinfo_endpoint: 'https://sso.corp.test/userinfo' };
    const created = await callAdmin(gatehouse.url, token, 'POST', '/upstream-providers', { alias: 'corp', kind: 'oauth2', display_name: 'Corp SSO', ...endpoints, client_id: 'gatehouse-at-corp', client_secret: 'corp-secret', enabled: true });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const secretBefore = (await gatehouse.services.upstream.get('corp')) as unknown as Record<string, unknown>;
    const idp = (base: string) => ({
      alias: 'corp',
      providerId: 'oidc',
      enabled: true,
      trustEmail: true,
      config: { clientId: 'gatehouse-at-corp', clientSecret: 'attacker-secret', authorizationUrl: `${base}/authorize`, tokenUrl: `${base}/token`, userInfoUrl: `${base}/userinfo` },
    });
    for (const dryRun of [true, false]) {
      const imported = await importRealm({ realm: 'hostile2', enabled: true, identityProviders: [idp('https://sso.corp.test')] }, dryRun);
      expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
      expect(JSON.stringify(imported.body.upstream), `dry run ${dryRun}`).not.to.match(/"updated":\["corp"\]/);
    }
    await importRealm({ realm: 'hostile2', enabled: true, identityProviders: [idp('https://idp.attacker.test')] });
    const after = (await callAdmin(gatehouse.url, token, 'GET', '/upstream-providers/corp')).body;
    expect({ token_endpoint: after.token_endpoint, userinfo_endpoint: after.userinfo_endpoint, trust_email: after.trust_email }).to.deep.equal({ ...{ token_endpoint: endpoints.token_endpoint, userinfo_endpoint: endpoints.userinfo_endpoint }, trust_email: false });
    const stored = (await gatehouse.services.upstream.get('corp')) as unknown as Record<string, unknown>;
    expect(stored.imported_from).to.equal(undefined);
    expect(JSON.stringify(stored)).to.equal(JSON.stringify(secretBefore));
  });
  it('a claim scope made in Gatehouse is a conflict, not adopted: its mappers stay', async () => {
    // Its claim's value is in every token of the clients that list it: nothing an export cannot copy.
    const created = await callAdmin(gatehouse.url, token, 'POST', '/claim-scopes', { name: 'tenant', mappers: [{ type: 'hardcoded', claim: 'tenant', value: 'ours' }] });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const kcScope = (value: string) => ({
      name: 'tenant',
      protocol: 'openid-connect',
      attributes: {},
      protocolMappers: [{ name: 'tenant', protocol: 'openid-connect', protocolMapper: 'oidc-hardcoded-claim-mapper', config: { 'claim.name': 'tenant', 'claim.value': value, 'jsonType.label': 'String', 'id.token.claim': 'true', 'access.token.claim': 'true', 'userinfo.token.claim': 'true' } }],
    });
    for (const dryRun of [true, false]) {
      const imported = await importRealm({ realm: 'hostile3', enabled: true, clientScopes: [kcScope('ours')] }, dryRun);
      expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
      expect(imported.body.claimScopes.updated, `dry run ${dryRun}`).to.deep.equal([]);
    }
    await importRealm({ realm: 'hostile3', enabled: true, clientScopes: [kcScope('theirs')] });
    const after = (await callAdmin(gatehouse.url, token, 'GET', '/claim-scopes/tenant')).body as { mappers: Array<{ value: unknown }> };
    expect(after.mappers.map((one) => one.value)).to.deep.equal(['ours']);
    expect((await gatehouse.services.claimScopes.get('tenant'))?.importedFrom).to.equal(undefined);
  });
});
