import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';

const UPSTREAM_SECRET = 'probe25-upstream-secret-7Qx2vK9wLm';

type ExportFile = Record<string, unknown> & {
  users: Array<{ _id: string }>;
  upstream_providers: Array<Record<string, unknown>>;
  upstream_links: Array<Record<string, unknown>>;
  settings: Record<string, unknown>;
};

/**
 * Probe (probe25): `gatehouse import` of round 24's sections — upstream providers with their
 * secrets (opened for the file, sealed again), users' upstream links, runtime settings — from a
 * file someone else may have edited. A dry run writes nothing; the upstream secret is sealed at
 * rest and never printed, logged or audited; a link reaches only the file's own users and never
 * takes an identity linked to another user here; and a provider pointing anywhere but https (or
 * loopback http), an administrator default role, or `__proto__` members stop the import before
 * the first write, naming where.
 */
describe("probe: importing upstream providers, links and settings from an edited export file (CLI, real stores)", function () {
  this.timeout(300_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  let dir: string;
  let base: ExportFile;
  let victim: { id: string };
  let carol: { id: string };
  const env = () => ({ NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, REDIS_URL: deploy.redisUrl!, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings });
  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);
  const provider = (alias: string, secret: string) => ({ alias, kind: 'oidc', display_name: alias, issuer: `https://${alias}.example.com`, client_id: 'gatehouse', client_secret: secret });
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text, { mode: 0o600 });
    return file;
  };
  const historyNow = async () => (await gatehouse.services.runtimeSettings.passwordPolicy.read()).settings.password_history;
  /** Every document of every collection, as text: where a secret in the clear would show. */
  const everythingStored = async () => {
    await gatehouse.flushBatchedWrites();
    const connection = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    try {
      const db = connection.db!;
      const texts: string[] = [];
      for (const { name } of await db.listCollections().toArray()) texts.push(JSON.stringify(await db.collection(name).find({}).toArray()));
      return texts.join('\n');
    } finally {
      await connection.close();
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'probe25-import-'));
    deploy = await deployment('probe_import_upstream');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    const { accounts } = gatehouse.services;
    victim = await accounts.createUser({ username: 'victim', password: PASSWORD, email: 'victim@example.com', emailVerified: true });
    carol = await accounts.createUser({ username: 'carol', password: PASSWORD, email: 'carol@example.com', emailVerified: true });
    for (const [alias, secret] of [['corp', 'corp-secret-on-target'], ['partner', UPSTREAM_SECRET]] as const) {
      const created = await call('POST', '/upstream-providers', provider(alias, secret));
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
    }
    await gatehouse.services.upstream.link('corp', 'sub-victim', victim.id);
    await gatehouse.services.upstream.link('partner', 'sub-carol', carol.id);

    const exported = await runCli(['export', '--output', join(dir, 'export.json'), '--unencrypted', '--json'], env());
    expect(exported.code, exported.stderr).to.equal(0);
    base = JSON.parse(readFileSync(join(dir, 'export.json'), 'utf8')) as ExportFile;
    expect(base.contains_upstream_secrets).to.equal(true);
    expect(base.upstream_providers.find((one) => one.alias === 'partner')?.client_secret).to.equal(UPSTREAM_SECRET);

    // The file will bring carol and the partner provider back; the victim is not in it.
    expect((await call('DELETE', '/upstream-providers/partner')).status).to.equal(204);
    expect((await call('DELETE', `/users/${carol.id}`)).status).to.equal(204);
    base.users = base.users.filter((user) => user._id !== victim.id);
    base.upstream_links = [
      { provider: 'partner', subject: 'sub-carol', userId: carol.id, label: null, createdAt: new Date().toISOString(), lastSignInAt: null },
      // A link naming a user the file does not bring (this deployment's victim): not the file's to make.
      { provider: 'partner', subject: 'attacker-sub', userId: victim.id, label: null, createdAt: new Date().toISOString(), lastSignInAt: null },
      // An identity linked to the victim here, claimed for carol: stays the victim's.
      { provider: 'corp', subject: 'sub-victim', userId: carol.id, label: null, createdAt: new Date().toISOString(), lastSignInAt: null },
    ];
    base.settings = { 'password-policy': { password_history: 7 } };
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a dry run writes nothing and prints no secret', async () => {
    const historyBefore = await historyNow();
    const file = write('dry.json', JSON.stringify(base));
    const checked = await runCli(['import', '--input', file, '--dry-run', '--json'], env());
    expect(checked.code, checked.stderr).to.equal(0);
    expect(JSON.parse(checked.stdout)).to.deep.include({ dry_run: true, upstream_providers: 2, upstream_links: 3, settings: 1 });
    expect(`${checked.stdout}${checked.stderr}`).not.to.include(UPSTREAM_SECRET);
    expect((await call('GET', '/upstream-providers/partner')).status).to.equal(404);
    expect(await gatehouse.services.accounts.findById(carol.id)).to.equal(undefined);
    expect(await historyNow()).to.equal(historyBefore).and.not.equal(7);
  });

  it('seals the upstream secret again, never shows it, links only the file’s users and leaves another user’s identity alone', async () => {
    const file = write('import.json', JSON.stringify(base));
    const imported = await runCli(['import', '--input', file, '--json'], env());
    expect(imported.code, imported.stderr).to.equal(0);
    const summary = JSON.parse(imported.stdout) as { upstream_links: { created: number; conflicts: number } };
    expect(summary.upstream_links).to.include({ created: 1, conflicts: 1 });
    expect(`${imported.stdout}${imported.stderr}`).not.to.include(UPSTREAM_SECRET);

    const partner = await call('GET', '/upstream-providers/partner');
    expect(partner.status).to.equal(200);
    expect(partner.body.has_secret).to.equal(true);
    expect(JSON.stringify(partner.body)).not.to.include(UPSTREAM_SECRET);
    expect((await gatehouse.services.upstream.credentials('partner')).clientSecret).to.equal(UPSTREAM_SECRET);
    // Sealed at rest: not in any collection (the providers', the audit trail's, …) in the clear.
    expect(await everythingStored()).not.to.include(UPSTREAM_SECRET);

    expect((await gatehouse.services.upstream.linksOf(victim.id)).map((link) => `${link.provider} ${link.subject}`)).to.deep.equal(['corp sub-victim']);
    expect((await gatehouse.services.upstream.findLink('partner', 'attacker-sub'))).to.equal(undefined);
    expect((await gatehouse.services.upstream.findLink('corp', 'sub-victim'))?.userId).to.equal(victim.id);
    expect((await gatehouse.services.upstream.findLink('partner', 'sub-carol'))?.userId).to.equal(carol.id);
    expect(await historyNow()).to.equal(7);
  });

  it('refuses a provider off https, an administrator default role and __proto__ members before the first write, naming them', async () => {
    const evil = { ...base.upstream_providers.find((one) => one.alias === 'partner')!, alias: 'evil' };
    const withEvil = (changes: Record<string, unknown>): ExportFile => ({ ...base, upstream_providers: [...base.upstream_providers, { ...evil, ...changes }], settings: { 'password-policy': { password_history: 9 } } });
    const index = base.upstream_providers.length;
    const cases: Array<[string, string, string]> = [
      ['an http issuer', JSON.stringify(withEvil({ issuer: 'http://idp.evil.example' })), `upstream_providers.${index}.issuer`],
      ['a link-local token endpoint over http', JSON.stringify(withEvil({ token_endpoint: 'http://169.254.169.254/token' })), `upstream_providers.${index}.token_endpoint`],
      ['a javascript: icon', JSON.stringify(withEvil({ icon_url: 'javascript:alert(1)' })), `upstream_providers.${index}.icon_url`],
      ['admin as a default role', JSON.stringify({ ...withEvil({}), settings: { 'sign-in': { default_roles: ['admin'] }, 'password-policy': { password_history: 9 } } }), 'settings.sign-in.default_roles'],
      ['__proto__ in the settings', JSON.stringify(withEvil({})).replace('"settings":{', '"settings":{"__proto__":{"password-policy":{"password_history":11}},'), '__proto__'],
      ['__proto__ in a settings group', JSON.stringify(withEvil({})).replace('"password-policy":{', '"password-policy":{"__proto__":{"password_min_length":1},'), '__proto__'],
      ['__proto__ in a provider', JSON.stringify(withEvil({})).replace('"alias":"evil"', '"__proto__":{"trust_email":true},"alias":"evil"'), '__proto__'],
      ['__proto__ in a link', JSON.stringify(withEvil({})).replace('"provider":"partner"', '"__proto__":{"userId":"x"},"provider":"partner"'), '__proto__'],
    ];
    for (const [what, text, named] of cases) {
      const file = write('refused.json', text);
      for (const dryRun of [['--dry-run'], []]) {
        const refused = await runCli(['import', '--input', file, ...dryRun], env());
        expect(refused.code, `${what} ${dryRun.join('')}: ${refused.stderr}`).to.equal(2);
        expect(refused.stderr, what).to.include(named);
        expect(`${refused.stdout}${refused.stderr}`, what).not.to.include(UPSTREAM_SECRET);
      }
      expect((await call('GET', '/upstream-providers/evil')).status, what).to.equal(404);
      expect(await historyNow(), what).to.equal(7);
    }
  });
});
