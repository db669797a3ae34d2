import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/keycloak');

/**
 * What a Keycloak import made — claim scopes, upstream providers (some with a client secret, some
 * disabled until one is set), users' links to them, runtime settings, each object marked with its
 * realm — goes through `gatehouse export` / `import` as it is: the target holds the same
 * documents (secrets sealed under its own GATEHOUSE_SECRET, opening to the same values), so a
 * re-import of the realm there still updates what the realm's import created rather than
 * reporting conflicts. Real stores, the CLI.
 */
describe("export → import of what a Keycloak import made: the realm's marks travel (real stores, CLI)", function () {
  this.timeout(240_000);
  const file = join(tmpdir(), `gatehouse-export-kc-marks-${randomBytes(4).toString('hex')}.json`);
  let source: Deployment;
  let target: Deployment;
  const cliEnv = (deploy: Deployment) => ({ NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, ...(deploy.redisUrl ? { REDIS_URL: deploy.redisUrl } : {}), GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings });

  /** The collections' documents, the sealed secrets left out (each deployment seals under its own key), by id. */
  async function documents(deploy: Deployment, collection: string): Promise<unknown[]> {
    const mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    try {
      const docs = await mongo.collection(collection).find().sort({ _id: 1 }).toArray();
      return docs.map(({ secret_sealed: _secret, private_key_sealed: _key, ...rest }) => JSON.parse(JSON.stringify(rest)) as unknown);
    } finally {
      await mongo.close();
    }
  }

  async function credentials(gatehouse: RunningGatehouse) {
    const { upstream } = gatehouse.services;
    return Promise.all((await upstream.list()).map(async (provider) => [provider.alias, await upstream.credentials(provider.alias)] as const));
  }

  before(async () => {
    source = await deployment('export_kc_marks_source');
    target = await deployment('export_kc_marks_target');
    for (const realm of ['realm-export-idps.json', 'realm-export-claim-scopes.json', 'realm-export-settings.json']) {
      const imported = await runCli(['import', '--keycloak', join(FIXTURES, realm)], cliEnv(source));
      expect(imported.code, `${realm}: ${imported.stderr}`).to.equal(0);
    }
  });
  after(async () => {
    rmSync(file, { force: true });
    await source?.drop();
    await target?.drop();
  });

  it('the target holds the same claim scopes, providers, links and settings, marks included, and the secrets open to the same values', async () => {
    const exported = await runCli(['export', '--output', file, '--unencrypted', '--json'], cliEnv(source));
    expect(exported.code, exported.stderr).to.equal(0);
    const counts = JSON.parse(exported.stdout) as Record<string, number>;
    expect(counts.claim_scopes, 'claim scopes').to.be.greaterThan(0);
    expect(counts.upstream_providers, 'providers').to.be.greaterThan(0);
    expect(counts.upstream_links, 'links').to.be.greaterThan(0);
    expect(counts.settings, 'settings').to.be.greaterThan(0);

    const imported = await runCli(['import', '--input', file, '--json'], cliEnv(target));
    expect(imported.code, imported.stderr).to.equal(0);
    expect(JSON.parse(imported.stdout)).to.deep.include({ conflicts: [], conflicts_total: 0 });
    for (const collection of ['claim_scopes', 'upstream_providers', 'upstream_links']) {
      const held = await documents(source, collection);
      expect(held, collection).to.not.deep.equal([]);
      expect(await documents(target, collection), collection).to.deep.equal(held);
    }
    const marked = (await documents(target, 'upstream_providers')) as Array<{ imported_from?: unknown }>;
    expect(marked.every((provider) => provider.imported_from !== undefined), 'every provider marked').to.equal(true);
    const settingsOf = async (deploy: Deployment) => ((await documents(deploy, 'settings')) as Array<{ _id: string; values: unknown }>).map(({ _id, values }) => ({ _id, values }));
    expect(await settingsOf(target)).to.deep.equal(await settingsOf(source));

    const [from, to] = [await source.start(), await target.start()];
    try {
      expect(await credentials(to)).to.deep.equal(await credentials(from));
    } finally {
      await from.close();
      await to.close();
    }
  });

  it("a re-import of the realm on the target updates what the realm's import created: no conflict", async () => {
    const again = await runCli(['import', '--keycloak', join(FIXTURES, 'realm-export-idps.json'), '--json'], cliEnv(target));
    expect(again.code, again.stderr).to.equal(0);
    const report = JSON.parse(again.stdout) as { conflicts: unknown[]; counts: { upstream: { created: number; updated: number }; claimScopes: { created: number; updated: number } } };
    expect(report.conflicts).to.deep.equal([]);
    expect(report.counts.upstream.created).to.equal(0);
    expect(report.counts.upstream.updated).to.be.greaterThan(0);
  });
});
