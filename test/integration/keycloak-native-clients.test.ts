import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { clientOperations } from '../../src/operations/clients.ts';
import { parsedDocument } from '../../src/keycloak/export-stream.ts';
import { importKeycloakRealm } from '../../src/operations/keycloak-import.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, PASSWORD, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/keycloak/realm-export-idps.json', import.meta.url));
const REALM_EXPORT = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;

/**
 * Keycloak clients of native apps (exported by a real Keycloak 26: test/fixtures/keycloak) become
 * `application_type: native` clients, and the apps sign in to Gatehouse with the redirect URIs
 * they had: a private-use scheme, and a loopback address on whatever port the app picked.
 */
describe('Keycloak realm import: native apps (custom-scheme and loopback redirect URIs)', function () {
  this.timeout(120_000);
  const actor = { actor: { type: 'system' as const, id: 'test' } };
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  const username = 'native-user';

  before(async () => {
    deploy = await deployment('keycloak_native');
    gatehouse = await deploy.start();
    await gatehouse.services.accounts.createUser({ username, password: PASSWORD, email: 'native@example.com', emailVerified: true });
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('imports them as native clients and reports what became of each redirect URI', async () => {
    const report = await importKeycloakRealm(gatehouse.services, actor, { realm: parsedDocument(REALM_EXPORT) }, { dryRun: false });
    expect(report.clients.created).to.include.members(['acme-mobile', 'acme-desktop', 'acme-dev-web']);
    expect(report.nativeClients).to.deep.equal({
      'acme-mobile': ['com.acme.mobile:/oauth2redirect (private-use scheme)'],
      'acme-desktop': ['http://127.0.0.1/callback (loopback, any port)', 'http://[::1]/callback (loopback, any port)'],
    });
    const notes = report.unmapped.filter((item) => item.name === 'acme-mobile').map((item) => item.reason);
    expect(notes.join(' | ')).to.match(/acmemobile:\/\/callback: a private-use scheme must be a reverse domain name/);

    const mobile = (await gatehouse.services.clients.get('acme-mobile'))!;
    expect(mobile.metadata).to.deep.include({ application_type: 'native', redirect_uris: ['com.acme.mobile:/oauth2redirect'], post_logout_redirect_uris: ['com.acme.mobile:/signed-out'] });
    expect(mobile.webOrigins).to.deep.equal([]);
    expect((await gatehouse.services.clients.get('acme-dev-web'))!.metadata.application_type).to.equal(undefined);
  });

  it('a mobile app signs in with its private-use scheme', async () => {
    const app = await relyingParty(deploy.issuer, 'acme-mobile');
    const request = await authorizationRequest(app, 'com.acme.mobile:/oauth2redirect');
    const { callback } = await signIn(new UserAgent(), request.url.href, 'com.acme.mobile:/oauth2redirect', { username, password: PASSWORD });
    expect(callback.searchParams.get('code')).to.be.a('string');
    const tokens = await oidc.authorizationCodeGrant(app, callback, request.checks);
    expect(tokens.claims()?.preferred_username).to.equal(username);
  });

  it('a desktop app signs in on the loopback port it picked (registered without a port in Keycloak)', async () => {
    const app = await relyingParty(deploy.issuer, 'acme-desktop');
    const redirectUri = 'http://127.0.0.1:51234/callback';
    const request = await authorizationRequest(app, redirectUri);
    const { callback } = await signIn(new UserAgent(), request.url.href, redirectUri, { username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(app, callback, request.checks);
    expect(tokens.claims()?.aud).to.equal('acme-desktop');
  });

  it('the CLI report names them: gatehouse import --keycloak FILE --dry-run', async () => {
    const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
    const exit = await runCli(['import', '--keycloak', FIXTURE, '--dry-run'], env);
    expect(exit.code, exit.stderr).to.equal(0);
    expect(exit.stdout).to.contain('client acme-mobile → native app (application_type native, RFC 8252): com.acme.mobile:/oauth2redirect (private-use scheme)');
    expect(exit.stdout).to.match(/client acme-desktop → native app .*http:\/\/127\.0\.0\.1\/callback \(loopback, any port\)/);
    expect(exit.stdout).to.not.contain('acme-dev-web → native');
  });

  it('stays editable through the admin operations (its URIs pass the native rules)', async () => {
    const updated = await clientOperations(gatehouse.services).update(actor, 'acme-mobile', { name: 'ACME Mobile (imported)', redirect_uris: ['com.acme.mobile:/oauth2redirect', 'http://127.0.0.1/cb'] });
    expect(updated.displayName).to.equal('ACME Mobile (imported)');
  });
});
