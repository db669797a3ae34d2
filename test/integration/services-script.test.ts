// scripts/services up: a PostgreSQL that cannot start stops `up` with the reason. It used to be
// lost inside a command substitution: FerretDB was started anyway against 127.0.0.1:5432 and
// `npm run dev` died later on a MongoServerError stack trace, with "\n" printed literally.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('scripts/services up when PostgreSQL cannot start', function () {
  this.timeout(60_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-services-'));
    // Readable by the `postgres` user the script runs PostgreSQL's tools as when run by root.
    chmodSync(dir, 0o755);
    const bin = join(dir, 'pgbin');
    spawnSync('mkdir', ['-p', bin]);
    chmodSync(bin, 0o755);
    const script = (path: string, body: string) => {
      writeFileSync(path, `#!/usr/bin/env bash\n${body}\n`);
      chmodSync(path, 0o755);
    };
    // A PostgreSQL installation whose initdb fails, found through pg_config as the script does.
    script(join(dir, 'pg_config'), `echo ${bin}`);
    script(join(bin, 'initdb'), 'echo "initdb: cannot create the cluster (test)" >&2\nexit 1');
    for (const tool of ['pg_ctl', 'postgres', 'psql', 'createdb']) script(join(bin, tool), 'exit 1');
  });

  after(() => {
    spawnSync('bash', ['scripts/services', 'down'], { cwd: ROOT, env: { ...process.env, GATEHOUSE_SERVICES_DIR: join(dir, 'services') } });
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails with the reason on separate lines, and starts no MongoDB-wire server on top of it', () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${dir}:${process.env.PATH ?? ''}`,
      GATEHOUSE_SERVICES_DIR: join(dir, 'services'),
      GATEHOUSE_FERRETDB_BACKEND: 'postgresql',
      REDIS_URL: 'redis://127.0.0.1:1',
    };
    delete env.MONGODB_URI;
    const result = spawnSync('bash', ['scripts/services', 'up'], { cwd: ROOT, env, encoding: 'utf8', timeout: 50_000 });
    expect(result.status, `${result.stdout}\n${result.stderr}`).to.not.equal(0);
    expect(result.stderr).to.include('initdb failed');
    expect(result.stderr).to.include('\ninitdb: cannot create the cluster (test)');
    expect(result.stderr, 'newlines, not backslash-n').to.not.include('\\n');
    expect(result.stderr).to.not.include('starting FerretDB');
    expect(result.stdout).to.not.include('MONGODB_URI=');
  });
});
