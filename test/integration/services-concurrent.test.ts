// scripts/services up called twice at once for one directory (`npm run cli` while `npm run dev` is
// still starting its databases): both used to initialise and start a PostgreSQL cluster in the same
// data directory, so one of them failed (or a second FerretDB and Redis ran beside the first).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { connectMongo, pingMongo } from '../../src/storage/mongo.ts';
import { outputOf } from '../helpers/process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The processes running now: their argument lists and working directories. */
function processes(): Array<{ args: string[]; cwd: string }> {
  const found: Array<{ args: string[]; cwd: string }> = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      found.push({ args: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean), cwd: readlinkSync(`/proc/${pid}/cwd`) });
    } catch {
      // Ended meanwhile, or not ours to read.
    }
  }
  return found;
}

/** Redis's answer to PING at `url`. */
function redisPing(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().trim());
    });
    socket.once('error', reject);
  });
}

describe('scripts/services up twice at once for one directory', function () {
  this.timeout(240_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-services-twice-'));
    // Reachable by the `postgres` user the script runs PostgreSQL as when run by root.
    chmodSync(dir, 0o755);
    env = { ...process.env, GATEHOUSE_SERVICES_DIR: join(dir, 'services'), GATEHOUSE_FERRETDB_BACKEND: 'postgresql', GATEHOUSE_PG_DURABLE: '0' };
    delete env.MONGODB_URI;
    delete env.REDIS_URL;
  });

  after(() => {
    spawnSync('bash', ['scripts/services', 'down'], { cwd: ROOT, env });
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts one PostgreSQL, one FerretDB and one Redis, and both callers get the same working URLs', async () => {
    const up = () => outputOf(spawn('bash', ['scripts/services', 'up'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }), 200_000, 'scripts/services up');
    const [first, second] = await Promise.all([up(), up()]);
    expect(first.code, first.stderr).to.equal(0);
    expect(second.code, second.stderr).to.equal(0);
    const parsed = (stdout: string) => Object.fromEntries(stdout.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
    const [urls, others] = [parsed(first.stdout), parsed(second.stdout)];
    // The same URLs for both; only one of the two started the services, and says so (the other: none).
    expect({ ...others, GATEHOUSE_SERVICES_STARTED: undefined }).to.deep.equal({ ...urls, GATEHOUSE_SERVICES_STARTED: undefined });
    expect([urls.GATEHOUSE_SERVICES_STARTED, others.GATEHOUSE_SERVICES_STARTED].sort()).to.deep.equal(["''", 'mongo\\ redis']);

    const cluster = readFileSync(join(dir, 'services', 'postgres.dir'), 'utf8').trim();
    const running = processes();
    const postmasters = running.filter(({ args }) => args[0]?.endsWith('/postgres') && args.includes(cluster));
    expect(postmasters, JSON.stringify(postmasters)).to.have.length(1);
    expect(running.filter(({ args }) => args.includes(`--state-dir=${join(dir, 'services', 'mongo')}`))).to.have.length(1);
    // redis-server names itself by its address; --dir is its working directory.
    expect(running.filter(({ args, cwd }) => args[0]?.startsWith('redis-server') && cwd === join(dir, 'services', 'redis'))).to.have.length(1);

    const mongo = await connectMongo({ uri: urls.MONGODB_URI!, timeoutMs: 30_000 });
    try {
      await pingMongo(mongo);
    } finally {
      await mongo.close();
    }
    expect(await redisPing(urls.REDIS_URL!)).to.equal('+PONG');
  });
});
