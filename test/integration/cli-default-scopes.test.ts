import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { instanceWithCliEnv } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';
import { emptyDatabaseUri, randomSecret } from '../helpers/stores.ts';

/** `gatehouse clients create|update --default-scopes "a b"`: the admin API's default_scopes, from the command line. */
describe('CLI: clients --default-scopes (real stores, a running instance)', function () {
  this.timeout(90_000);
  let gatehouse: Awaited<ReturnType<typeof instanceWithCliEnv>>['gatehouse'];
  let env: Record<string, string>;

  before(async () => {
    ({ gatehouse, env } = await instanceWithCliEnv(emptyDatabaseUri('cli_default_scopes'), randomSecret()));
  });
  after(async () => {
    await gatehouse?.close();
  });

  const get = async (id: string) => {
    const shown = await runCli(['clients', 'get', id, '--json'], env);
    expect(shown.code, shown.stderr).to.equal(0);
    return JSON.parse(shown.stdout) as { scope: string | null; default_scopes: string[] | null };
  };

  it('sets, replaces, empties and unsets them; one outside --scope is an error naming --default-scopes', async () => {
    const made = await runCli(['clients', 'create', '--name', 'Intranet', '--redirect-uri', 'https://intranet.example/cb', '--scope', 'openid profile email', '--default-scopes', 'profile email', '--json'], env);
    expect(made.code, made.stderr).to.equal(0);
    const id = (JSON.parse(made.stdout) as { client_id: string }).client_id;
    expect((await get(id)).default_scopes).to.deep.equal(['profile', 'email']);

    const bad = await runCli(['clients', 'update', id, '--default-scopes', 'email phone'], env);
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.include('--default-scopes').and.include("phone is not one of the client's allowed scopes");
    expect(bad.stderr).to.not.match(/\n\s+at /);
    expect((await get(id)).default_scopes).to.deep.equal(['profile', 'email']);

    expect((await runCli(['clients', 'update', id, '--default-scopes', 'email'], env)).code).to.equal(0);
    expect((await get(id)).default_scopes).to.deep.equal(['email']);
    expect((await runCli(['clients', 'update', id, '--default-scopes', ''], env)).code).to.equal(0);
    expect((await get(id)).default_scopes).to.deep.equal([]);
    expect((await runCli(['clients', 'update', id, '--unset', 'default_scopes'], env)).code).to.equal(0);
    expect((await get(id)).default_scopes).to.equal(null);
  });

  it('gatehouse export / import carry them to another deployment', async () => {
    const made = await runCli(['clients', 'create', '--name', 'Carried', '--redirect-uri', 'https://carried.example/cb', '--scope', 'openid email', '--default-scopes', 'email', '--json'], env);
    const id = (JSON.parse(made.stdout) as { client_id: string }).client_id;
    const file = join(tmpdir(), `gatehouse-default-scopes-${randomBytes(4).toString('hex')}.json`);
    try {
      const exported = await runCli(['export', '--output', file, '--unencrypted', '--json'], env);
      expect(exported.code, exported.stderr).to.equal(0);
      const target = { ...env, MONGODB_URI: emptyDatabaseUri('cli_default_scopes_copy') };
      const imported = await runCli(['import', '--input', file, '--json'], target);
      expect(imported.code, imported.stderr).to.equal(0);
      const shown = await runCli(['clients', 'get', id, '--json'], target);
      expect((JSON.parse(shown.stdout) as { default_scopes: string[] }).default_scopes).to.deep.equal(['email']);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('lists --default-scopes in the help', async () => {
    const help = await runCli(['help'], env);
    expect(help.stdout + help.stderr).to.include('--default-scopes');
  });
});
