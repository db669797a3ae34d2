import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, throwawayAuthorizationUrl, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';

/** `[[[ … ]]]` nested `levels` deep, as text: JSON.stringify itself cannot write it. */
const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

/**
 * Keycloak realm exports no real Keycloak writes, found by an adversarial review (qa18): each is
 * refused or reported as the import will really treat it, before anything is written, in the dry
 * run and through the CLI alike.
 */
describe('Keycloak realm import: hostile and odd exports', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    deploy = await deployment('keycloak_hostile');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-kc-hostile-'));
    env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await gatehouse.close();
    await deploy.drop();
  });

  /** The file at `name` in the test's directory, holding `text`. */
  const file = (name: string, text: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it("a client whose base URL is not a web URL is imported without client_uri, reported as not mapped (every /auth of it ended on 'client_uri must be a web uri')", async () => {
    const client = (clientId: string, baseUrl: string) => ({ clientId, enabled: true, publicClient: true, standardFlowEnabled: true, redirectUris: [`https://${clientId}.example.com/cb`], baseUrl });
    const realm = {
      realm: 'rbase',
      enabled: true,
      clients: [client('base-custom', 'com.example.app:/home'), client('base-fragment', 'https://base-fragment.example.com/#/home'), client('base-web', 'https://base-web.example.com/home')],
    };
    for (const query of ['?dry_run=true', '']) {
      const { status, body } = await callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${query}`, realm);
      expect(status, JSON.stringify(body)).to.equal(200);
      expect(body.clients.created).to.have.members(['base-custom', 'base-fragment', 'base-web']);
      const reasons = (body.unmapped as Array<{ kind: string; name: string; reason: string }>).filter((item) => item.kind === 'client').map((item) => `${item.name}: ${item.reason}`);
      expect(reasons).to.include.members([
        'base-custom: base URL com.example.app:/home: not mapped to client_uri, which must be an absolute http(s) URL without a fragment',
        'base-fragment: base URL https://base-fragment.example.com/#/home: not mapped to client_uri, which must be an absolute http(s) URL without a fragment',
      ]);
      expect(reasons.filter((reason) => reason.startsWith('base-web'))).to.deep.equal([]);
    }
    expect((await gatehouse.services.clients.get('base-custom'))!.metadata.client_uri).to.equal(undefined);
    expect((await gatehouse.services.clients.get('base-fragment'))!.metadata.client_uri).to.equal(undefined);
    expect((await gatehouse.services.clients.get('base-web'))!.metadata.client_uri).to.equal('https://base-web.example.com/home');
    for (const clientId of ['base-custom', 'base-web']) {
      const response = await fetch(throwawayAuthorizationUrl(deploy.issuer, clientId, `https://${clientId}.example.com/cb`), { redirect: 'manual' });
      expect(response.status, `${clientId}: ${(await response.text()).slice(0, 300)}`).to.equal(303);
    }
  });

  it("a client's logo, policy, terms-of-service and back-channel logout URLs become logo_uri, policy_uri, tos_uri and backchannel_logout_uri when the admin API would take them; others, and a front-channel logout URL, are reported (they were dropped silently)", async () => {
    const client = (clientId: string, attributes: Record<string, string>) => ({ clientId, enabled: true, publicClient: true, standardFlowEnabled: true, rootUrl: `https://${clientId}.example.com`, redirectUris: ['/cb'], attributes });
    const realm = {
      realm: 'rpages',
      enabled: true,
      clients: [
        client('pages-web', {
          logoUri: 'https://cdn.example.com/logo.png',
          policyUri: 'https://pages-web.example.com/privacy',
          tosUri: '/terms',
          'backchannel.logout.url': 'https://pages-web.example.com/logout/backchannel',
          'backchannel.logout.session.required': 'true',
        }),
        client('pages-odd', {
          logoUri: 'javascript:alert(1)',
          policyUri: 'https://pages-odd.example.com/#/privacy',
          tosUri: 'ftp://pages-odd.example.com/terms',
          'backchannel.logout.url': 'relative/logout',
          'frontchannel.logout.url': 'https://pages-odd.example.com/logout/front',
        }),
      ],
    };
    const reasonsOf = (body: { unmapped: Array<{ kind: string; name: string; reason: string }> }) => body.unmapped.filter((item) => item.kind === 'client').map((item) => `${item.name}: ${item.reason}`);
    const expected = [
      'pages-odd: logo URL javascript:alert(1): not mapped to logo_uri, which must be an absolute http(s) URL without a fragment',
      'pages-odd: policy URL https://pages-odd.example.com/#/privacy: not mapped to policy_uri, which must be an absolute http(s) URL without a fragment',
      'pages-odd: terms of service URL ftp://pages-odd.example.com/terms: not mapped to tos_uri, which must be an absolute http(s) URL without a fragment',
      'pages-odd: back-channel logout URL relative/logout: not mapped to backchannel_logout_uri, which must be an absolute http(s) URL without a fragment',
      'pages-odd: front-channel logout URL https://pages-odd.example.com/logout/front: not imported (Gatehouse has no front-channel logout; it signs apps out through back-channel logout, backchannel_logout_uri)',
    ];
    for (const query of ['?dry_run=true', '']) {
      const { status, body } = await callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${query}`, realm);
      expect(status, JSON.stringify(body)).to.equal(200);
      expect(body.clients.created).to.have.members(['pages-web', 'pages-odd']);
      expect(reasonsOf(body)).to.deep.equal(expected);
    }
    const web = (await gatehouse.services.clients.get('pages-web'))!.metadata;
    expect(web).to.deep.include({
      logo_uri: 'https://cdn.example.com/logo.png',
      policy_uri: 'https://pages-web.example.com/privacy',
      tos_uri: 'https://pages-web.example.com/terms',
      backchannel_logout_uri: 'https://pages-web.example.com/logout/backchannel',
      backchannel_logout_session_required: true,
    });
    const odd = (await gatehouse.services.clients.get('pages-odd'))!.metadata;
    for (const field of ['logo_uri', 'policy_uri', 'tos_uri', 'backchannel_logout_uri', 'backchannel_logout_session_required']) expect(odd[field], field).to.equal(undefined);
    // The provider takes both clients as they are stored: a sign-in starts.
    for (const clientId of ['pages-web', 'pages-odd']) {
      const response = await fetch(throwawayAuthorizationUrl(deploy.issuer, clientId, `https://${clientId}.example.com/cb`), { redirect: 'manual' });
      expect(response.status, `${clientId}: ${(await response.text()).slice(0, 300)}`).to.equal(303);
    }
  });

  it('a dry run reports the conflicts between users of the file as the import does, across batches too (it said "3 created, 0 conflicts")', async () => {
    const same = [1, 2, 3].map((n) => ({ id: `dup-${n}`, username: n === 3 ? 'DUP-user' : 'dup-user', enabled: true }));
    // 120 users with one email: three batches of 50.
    const mails = Array.from({ length: 120 }, (_, n) => ({ id: `mail-${n}`, username: `mail-${n}`, email: n % 2 === 0 ? 'same@dup.test' : 'SAME@dup.test', enabled: true }));
    const realm = { realm: 'rdup', enabled: true, users: [...same, ...mails, { ...same[0]!, firstName: 'Again' }] };
    const reports = [];
    for (const query of ['?dry_run=true', '']) {
      const { status, body } = await callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${query}`, realm);
      expect(status, JSON.stringify(body).slice(0, 500)).to.equal(200);
      reports.push({ users: body.counts.users, conflicts: body.counts.conflicts, first: body.conflicts.slice(0, 2) });
    }
    expect(reports[0]).to.deep.equal(reports[1]);
    expect(reports[1]).to.deep.equal({
      users: { created: 2, updated: 1 },
      conflicts: 121,
      first: [
        { user: 'dup-user', reason: 'another Gatehouse user has this username or email' },
        { user: 'DUP-user', reason: 'another Gatehouse user has this username or email' },
      ],
    });
  });

  it('a dry run reports a user whose username or email a stored user of another id holds as a conflict, as the import does — and one that user gave up earlier in the file as free (it said "created")', async () => {
    const created = async (username: string, email: string) => {
      const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/users', { username, email });
      expect(status, JSON.stringify(body)).to.equal(201);
      return body.id as string;
    };
    await created('held-name', 'held-name@held.test');
    await created('held-mail', 'held-mail@held.test');
    // Users an earlier import of this realm created (a re-import updates only those: README "What a re-import updates").
    const [moving, staying] = ['kc-held-moving', 'kc-held-staying'];
    const earlier = { realm: 'rheld', enabled: true, users: [{ id: moving, username: 'moving', email: 'moving@held.test', enabled: true }, { id: staying, username: 'staying', email: 'staying@held.test', enabled: true }] };
    expect((await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', earlier)).body.users.created).to.deep.equal(['moving', 'staying']);
    const realm = {
      realm: 'rheld',
      enabled: true,
      users: [
        { id: 'kc-held-1', username: 'HELD-NAME', enabled: true },
        { id: 'kc-held-2', username: 'free-name', email: 'Held-Mail@HELD.test', enabled: true },
        // Taken before its holder gives it up: a conflict; taken after: free, in the store as in the dry run.
        { id: 'kc-held-3', username: 'staying', enabled: true },
        { id: staying, username: 'stayed', email: 'stayed@held.test', enabled: true },
        { id: moving, username: 'moved', email: 'moved@held.test', enabled: true },
        { id: 'kc-held-4', username: 'moving', email: 'moving@held.test', enabled: true },
      ],
    };
    const reports = [];
    for (const query of ['?dry_run=true', '']) {
      const { status, body } = await callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${query}`, realm);
      expect(status, JSON.stringify(body).slice(0, 500)).to.equal(200);
      reports.push({ users: body.users, conflicts: body.conflicts });
    }
    expect(reports[0]).to.deep.equal(reports[1]);
    const reason = 'another Gatehouse user has this username or email';
    expect(reports[1]).to.deep.equal({
      users: { created: ['moving'], updated: ['stayed', 'moved'] },
      conflicts: ['HELD-NAME', 'free-name', 'staying'].map((user) => ({ user, reason })),
    });
  });

  it('a dry run derives the usernames of email-address users as the import does: a name a conflicting user did not get, or a stored user gave up, is free (it said jo-2)', async () => {
    const { body: held } = await callAdmin(gatehouse.url, token, 'POST', '/users', { username: 'held-jo', email: 'held-jo@derive.test' });
    // ann: a user an earlier import of this realm created (a re-import updates only those).
    const ann = { id: 'derive-ann' };
    const earlier = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', { realm: 'rderive', enabled: true, users: [{ id: ann.id, username: 'ann', email: 'ann-old@derive.test', enabled: true }] });
    expect([held.username, earlier.body.users.created]).to.deep.equal(['held-jo', ['ann']]);
    // With a password each: no user is noted for having none, so the report's first 20 notes are the renamed users'.
    const credentials = (JSON.parse(readFileSync(new URL('../fixtures/keycloak/realm-export-dir/acme-dir-users-0.json', import.meta.url), 'utf8')) as { users: Array<{ credentials: unknown[] }> }).users[0]!.credentials;
    const user = (id: string, username: string, email?: string) => ({ id, username, ...(email === undefined ? {} : { email }), enabled: true, credentials });
    const realm = {
      realm: 'rderive',
      enabled: true,
      users: [
        // A conflict (its email is another user's): it never holds "jo", in the store as in the dry run.
        user('derive-jo', 'jo', 'held-jo@derive.test'),
        // The derived users come in a later batch than the named ones above.
        ...Array.from({ length: 50 }, (_, n) => user(`derive-fill-${n}`, `derive-fill-${n}`)),
        user('derive-jo-mail', 'jo@derive.test'),
        user(ann.id as string, 'anne', 'ann-old@derive.test'),
        user('derive-ann-mail', 'ann@derive.test'),
      ],
    };
    const reports = [];
    for (const query of ['?dry_run=true', '']) {
      const { status, body } = await callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${query}`, realm);
      expect(status, JSON.stringify(body).slice(0, 500)).to.equal(200);
      const renamed = (body.unmapped as Array<{ kind: string; name: string; reason: string }>).filter((item) => item.reason.startsWith('the username is an email address'));
      reports.push({ counts: body.counts, conflicts: body.conflicts, renamed: renamed.map((item) => item.reason.replace(/ \(signs in .*/, '')) });
    }
    expect(reports[1]!.renamed).to.deep.equal(['jo', 'ann'].map((name) => `the username is an email address, which a Gatehouse username cannot be: imported as ${name}`));
    expect(reports[0]).to.deep.equal(reports[1]);
  });

  it('a member given twice (two users arrays, a user with two emails) is refused by the admin API and the CLI alike, naming it and where, before anything is written (the CLI imported both arrays, the admin API the last)', async () => {
    const user = (n: number) => `{ "id": "twice-${n}", "username": "twice-${n}", "enabled": true }`;
    const cases = [
      { what: 'two users arrays', text: `{\n  "realm": "rtwice",\n  "roles": { "realm": [ { "name": "rtwice-role" } ] },\n  "users": [ ${user(1)} ],\n  "users": [ ${user(2)} ]\n}`, path: 'users', line: 5, column: 3 },
      { what: 'a user with two emails', text: `{"realm":"rtwice","roles":{"realm":[{"name":"rtwice-role"}]},"users":[${user(1)},\r\n{"id":"twice-2","email":"a@twice.test","username":"twice-2","email":"b@twice.test"}]}`, path: 'users.1.email', line: 2, column: 61 },
    ];
    for (const { what, text, path, line, column } of cases) {
      const params = { line, column };
      for (const query of ['?dry_run=true', '']) {
        const { status, body } = await callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${query}`, text);
        expect(status, `${what}: ${JSON.stringify(body)}`).to.equal(400);
        expect(body.details, what).to.deep.equal([{ path, code: 'duplicate_member', params, message: `is given twice in its object: again at line ${line}, column ${column} (which one counts would be a guess; keep one)` }]);
      }
      const realmFile = file('twice.json', text);
      for (const dryRun of [['--dry-run'], []]) {
        const exit = await runCli(['import', '--keycloak', realmFile, ...dryRun], env);
        expect(exit.code, `${what}: ${exit.stdout}`).to.equal(2);
        expect(exit.stderr.trim(), what).to.equal(`gatehouse: ${realmFile}: ${path}: is given twice in its object: again at line ${line}, column ${column} (which one counts would be a guess; keep one)`);
        expect(exit.stdout).to.equal('');
      }
    }
    expect(await gatehouse.services.roles.get('rtwice-role')).to.equal(undefined);
    expect(await gatehouse.services.users.storedById('twice-1')).to.equal(undefined);
  });

  it('gatehouse import takes FILE, --input FILE or --keycloak EXPORT, one of them (--keycloak alone was refused as "FILE is required")', async () => {
    const realmFile = file('one-of.json', JSON.stringify({ realm: 'roneof', enabled: true, roles: { realm: [{ name: 'roneof-role' }] } }));
    const lines: Array<[string[], string]> = [
      [['import'], 'gatehouse: FILE is required (or --input FILE; a Keycloak export: --keycloak REALM_EXPORT|DIR)'],
      [['import', '--keycloak', realmFile, '--input', realmFile], 'gatehouse: --input and --keycloak: give one of them (FILE, --input FILE, or --keycloak REALM_EXPORT|DIR)'],
      // A FILE beside the option that stands for it is a stray argument, as on every command (cli-strict-lines).
      [['import', '--keycloak', realmFile, 'stray'], "gatehouse: import: unexpected argument 'stray'; see gatehouse import --help"],
      [['import', '--input', realmFile, 'stray'], "gatehouse: import: unexpected argument 'stray'; see gatehouse import --help"],
    ];
    for (const [args, said] of lines) {
      const exit = await runCli(args, env);
      expect([exit.code, exit.stderr.trim()], args.join(' ')).to.deep.equal([2, said]);
    }
    const imported = await runCli(['import', '--keycloak', realmFile, '--dry-run'], env);
    expect(imported.code, imported.stderr).to.equal(0);
    expect(await gatehouse.services.roles.get('roneof-role')).to.equal(undefined);
  });

  it('the CLI refuses an --api that is not a URI before anything, naming --api, in the dry run too (the dry run reported it "new")', async () => {
    const realmFile = file('api.json', JSON.stringify({ realm: 'rapi', enabled: true, roles: { realm: [{ name: 'rapi-role' }] } }));
    for (const api of ['not a uri', 'https://api.example.com/#x']) {
      for (const dryRun of [['--dry-run'], []]) {
        const exit = await runCli(['import', '--keycloak', realmFile, '--api', api, ...dryRun], env);
        expect(exit.code, exit.stdout).to.equal(2);
        expect(exit.stderr).to.match(/^gatehouse: --api: /);
        expect(exit.stdout).to.equal('');
      }
    }
    expect(await gatehouse.services.roles.get('rapi-role')).to.equal(undefined);
  });

  it('the CLI refuses a file that is not UTF-8 naming it and where, before anything is written (a Latin-1 "José" became "Jos\uFFFD"); a byte-order mark is fine', async () => {
    const realm = (name: string) => ({ realm: name, enabled: true, roles: { realm: [{ name: `${name}-role` }] }, users: [{ id: `00000000-0000-4000-8000-${name === 'rbom' ? '000000000001' : '000000000002'}`, username: `jose-${name}`, firstName: 'José', enabled: true }] });
    const latin1 = file('latin1.json', Buffer.from(JSON.stringify(realm('rlatin')), 'latin1'));
    for (const dryRun of [['--dry-run'], []]) {
      const exit = await runCli(['import', '--keycloak', latin1, ...dryRun], env);
      expect(exit.code, exit.stdout).to.equal(2);
      expect(exit.stderr).to.include(latin1).and.include('not UTF-8').and.match(/byte \d+/);
    }
    expect(await gatehouse.services.roles.get('rlatin-role')).to.equal(undefined);
    const bom = file('bom.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(realm('rbom')))]));
    const imported = await runCli(['import', '--keycloak', bom, '--json'], env);
    expect(imported.code, imported.stderr).to.equal(0);
    const user = (await gatehouse.services.users.exportAll()).find((one) => one.username === 'jose-rbom');
    expect(user?.givenName).to.equal('José');
  });

  describe('values nested thousands deep (it answered 500 after writing the role: JSON.stringify overflowed the stack)', () => {
    const cases = [
      {
        what: "a role's composites",
        realm: `{"realm":"rcomp","enabled":true,"roles":{"realm":[{"name":"rcomp-role","composites":{"x":${nested(20_000)}}}]}}`,
        path: 'roles.realm.0.composites.x',
        role: 'rcomp-role',
      },
      {
        what: "a group's realmRoles",
        realm: `{"realm":"rgroup","enabled":true,"roles":{"realm":[{"name":"rgroup-role"}]},"groups":[{"name":"g","path":"/g","realmRoles":${nested(20_000)}}]}`,
        path: 'groups.0.realmRoles',
        role: 'rgroup-role',
      },
      {
        what: "a custom flow's alias (named in the report)",
        realm: `{"realm":"rflow","enabled":true,"roles":{"realm":[{"name":"rflow-role"}]},"authenticationFlows":[{"builtIn":false,"alias":${nested(20_000)}}]}`,
        path: 'authenticationFlows.0.alias',
        role: 'rflow-role',
      },
      {
        what: "a user's federated identity (named in the report)",
        realm: `{"realm":"ruser","enabled":true,"roles":{"realm":[{"name":"ruser-role"}]},"users":[{"id":"ruser-1","username":"ruser-one","enabled":true},{"id":"ruser-2","username":"ruser-two","enabled":true,"federatedIdentities":[{"identityProvider":${nested(20_000)},"userId":"u"}]}]}`,
        path: 'users.1.federatedIdentities.0.identityProvider',
        role: 'ruser-role',
      },
    ];
    for (const { what, realm, path, role } of cases) {
      it(`${what}: 400 keycloak_too_deep naming ${path}, in the dry run too, and nothing written`, async () => {
        for (const query of ['?dry_run=true', '']) {
          const { status, body } = await callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${query}`, realm);
          expect(status, JSON.stringify(body).slice(0, 500)).to.equal(400);
          expect(body.details).to.deep.equal([{ path, message: 'nested more than 232 levels deep', code: 'keycloak_too_deep', params: { max: 232 } }]);
        }
        expect(await gatehouse.services.roles.get(role)).to.equal(undefined);
        expect(await gatehouse.services.keycloakRealms.get(/"realm":"(\w+)"/.exec(realm)![1]!)).to.equal(undefined);
        const realmFile = file(`${role}.json`, realm);
        for (const dryRun of [['--dry-run'], []]) {
          const exit = await runCli(['import', '--keycloak', realmFile, ...dryRun], env);
          expect(exit.code, exit.stderr).to.equal(2);
          expect(exit.stderr).to.equal(`gatehouse: ${path}: nested more than 232 levels deep\n`);
        }
        expect(await gatehouse.services.roles.get(role)).to.equal(undefined);
        expect(await gatehouse.services.accounts.findByLogin('ruser-one')).to.equal(undefined);
      });
    }

    it('a realm nested as deep as one holding 100 levels of groups is imported', async () => {
      // 100 levels of groups, each with attributes: what the bound is for.
      let group = '{"name":"g100","attributes":{"a":["b"]},"realmRoles":["ok-role"]}';
      for (let level = 99; level >= 1; level -= 1) group = `{"name":"g${level}","attributes":{"a":["b"]},"subGroups":[${group}]}`;
      const realm = `{"realm":"rok","enabled":true,"roles":{"realm":[{"name":"ok-role"}]},"groups":[${group}]}`;
      const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', realm);
      expect(status, JSON.stringify(body).slice(0, 500)).to.equal(200);
      expect(body.counts.groups.created).to.equal(100);
    });
  });
});
