import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/** A Keycloak OIDC identity provider of `issuer`, as an export holds it. */
const idp = (alias: string, issuer: string, clientId = 'gatehouse') => ({
  alias,
  providerId: 'oidc',
  enabled: true,
  trustEmail: false,
  config: { clientId, clientSecret: 'idp-secret', issuer, authorizationUrl: `${issuer}/auth`, tokenUrl: `${issuer}/token`, clientAuthMethod: 'client_secret_post' },
});
/** A user of the realm linked to `alias` as `subject`. */
const linkedUser = (id: string, username: string, alias: string, subject: string) => ({ id, username, email: `${username}@example.com`, emailVerified: true, enabled: true, federatedIdentities: [{ identityProvider: alias, userId: subject, userName: username }] });
const realm = (name: string, providers: unknown[], users: unknown[] = []) => ({ realm: name, enabled: true, identityProviders: providers, users });

/**
 * An upstream provider's users sign in through its issuer and client: a Keycloak import marks the
 * providers it creates with their realm (imported_from), and a re-import replaces only its own
 * realm's. A provider created in Gatehouse or by another realm's import whose alias an export names
 * is a conflict (dry run too), left as it is, and the export's users' links to it are not made.
 */
describe('Keycloak import: a re-import replaces only the upstream providers its realm created', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const importRealm = (body: unknown, dryRun = false) => callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${dryRun ? '?dry_run=true' : ''}`, body);
  const provider = async (alias: string) => (await callAdmin(gatehouse.url, token, 'GET', `/upstream-providers/${alias}`)).body;
  const links = async (userId: string) => (await callAdmin(gatehouse.url, token, 'GET', `/users/${userId}/upstream-links`)).body as Array<{ provider: string; subject: string }>;

  before(async () => {
    deploy = await deployment('kc_upstream_ownership');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it("a re-import of the realm that created a provider replaces it; another realm's import naming its alias is a conflict (dry run too), and its links are not made", async () => {
    const first = await importRealm(realm('north', [idp('north-idp', 'https://idp.north.test')]));
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    expect(first.body.upstream.created).to.deep.equal(['north-idp']);
    expect((await gatehouse.services.upstream.get('north-idp'))?.imported_from).to.deep.equal({ kind: 'keycloak', realm: 'north' });
    // The operator's view does not show the mark.
    expect((await provider('north-idp')).imported_from, 'shown to operators').to.deep.equal({ kind: 'keycloak', realm: 'north' });

    const again = await importRealm(realm('north', [idp('north-idp', 'https://idp2.north.test')]));
    expect(again.body.upstream.updated).to.deep.equal(['north-idp']);
    expect((await provider('north-idp')).issuer).to.equal('https://idp2.north.test');

    const other = realm('south', [idp('north-idp', 'https://idp.south.test', 'south-client')], [linkedUser('11111111-1111-4111-8111-111111111111', 'sam', 'north-idp', 'north-subject-1')]);
    for (const dryRun of [true, false]) {
      const imported = await importRealm(other, dryRun);
      expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
      expect(imported.body.upstream.updated, String(dryRun)).to.deep.equal([]);
      expect(imported.body.upstream.created, String(dryRun)).to.deep.equal([]);
      expect(imported.body.upstream.links.created, String(dryRun)).to.equal(0);
      expect(imported.body.conflicts, String(dryRun)).to.deep.include({
        kind: 'identity provider',
        name: 'north-idp',
        reason:
          "alias held by an upstream provider the import of realm north created: left as it is (issuer, client, endpoints, secret, settings), and the users' links to it are not imported. Import this realm's provider under another alias (rename it in Keycloak), or delete Gatehouse's if it is the same one (its links go with it) and import again",
      });
      expect(imported.body.counts.conflicts, String(dryRun)).to.equal(1);
    }
    const kept = await provider('north-idp');
    expect({ issuer: kept.issuer, client_id: kept.client_id }).to.deep.equal({ issuer: 'https://idp2.north.test', client_id: 'gatehouse' });
    expect((await gatehouse.services.upstream.get('north-idp'))?.imported_from).to.deep.equal({ kind: 'keycloak', realm: 'north' });
    // The south user came in, without a link to north's provider under south's subject.
    expect(await links('11111111-1111-4111-8111-111111111111')).to.deep.equal([]);
  });

  it('a provider imported before imports marked theirs is a conflict even when the export repeats all of it (no links made); deleted in Gatehouse, the next import creates it and links its users', async () => {
    const imported = await importRealm(realm('legacy', [idp('legacy-idp', 'https://idp.legacy.test')]));
    expect(imported.body.upstream.created).to.deep.equal(['legacy-idp']);
    // As a version without the mark left it.
    const mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    try {
      await mongo.db!.collection('upstream_providers').updateMany({ _id: { $in: ['legacy-idp'] } as never }, { $unset: { imported_from: '' } });
    } finally {
      await mongo.close();
    }
    expect((await gatehouse.services.upstream.get('legacy-idp'))?.imported_from).to.equal(undefined);
    const lee = '22222222-2222-4222-8222-222222222222';
    const next = realm('legacy', [{ ...idp('legacy-idp', 'https://idp.legacy.test'), trustEmail: true }], [linkedUser(lee, 'lee', 'legacy-idp', 'lee-subject')]);
    for (const dryRun of [true, false]) {
      const again = await importRealm(next, dryRun);
      expect(again.status, JSON.stringify(again.body)).to.equal(200);
      expect(again.body.upstream.updated, String(dryRun)).to.deep.equal([]);
      const conflicts = again.body.conflicts as Array<{ kind?: string; name?: string; reason: string }>;
      expect(conflicts.map((one) => `${one.kind} ${one.name}`), String(dryRun)).to.deep.equal(['identity provider legacy-idp']);
      expect(conflicts[0]!.reason).to.match(/never takes over an unmarked provider/).and.to.match(/delete it in Gatehouse \(gatehouse idps delete ALIAS/);
      expect(again.body.upstream.links.created, String(dryRun)).to.equal(0);
    }
    expect((await provider('legacy-idp')).trust_email).to.equal(false);
    expect((await gatehouse.services.upstream.get('legacy-idp'))?.imported_from).to.equal(undefined);
    // The user came in, without a link to the unmarked provider.
    expect(await links(lee)).to.deep.equal([]);
    // The way out the conflict names: delete it, import again.
    expect((await callAdmin(gatehouse.url, token, 'DELETE', '/upstream-providers/legacy-idp')).status).to.be.oneOf([200, 204]);
    const after = await importRealm(next);
    expect(after.body.upstream.created).to.deep.equal(['legacy-idp']);
    expect(after.body.upstream.links.created).to.equal(1);
    expect((await gatehouse.services.upstream.get('legacy-idp'))?.imported_from).to.deep.equal({ kind: 'keycloak', realm: 'legacy' });
    expect((await links(lee)).map((one) => `${one.provider} ${one.subject}`)).to.deep.equal(['legacy-idp lee-subject']);
  });

  it("a users file on its own links its users only to its realm's providers", async () => {
    const created = await callAdmin(gatehouse.url, token, 'POST', '/upstream-providers', {
      alias: 'local-idp',
      kind: 'oidc',
      display_name: 'Local',
      issuer: 'https://idp.local.test',
      client_id: 'gatehouse-local',
      client_secret: 'local-secret',
      scopes: ['openid'],
      enabled: true,
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    // The realm file names the alias (a conflict); its users file then comes on its own.
    const first = await importRealm(realm('east', [idp('local-idp', 'https://idp.east.test')]));
    expect(first.body.conflicts.map((one: { name?: string }) => one.name)).to.deep.equal(['local-idp']);
    const usersFile = { realm: 'east', users: [linkedUser('33333333-3333-4333-8333-333333333333', 'eve', 'local-idp', 'east-subject')] };
    for (const dryRun of [true, false]) {
      const imported = await importRealm(usersFile, dryRun);
      expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
      expect(imported.body.upstream.links.created, String(dryRun)).to.equal(0);
      expect(imported.body.conflicts.map((one: { name?: string }) => one.name), String(dryRun)).to.deep.equal(['local-idp']);
    }
    expect(await links('33333333-3333-4333-8333-333333333333')).to.deep.equal([]);
  });
});
