// scripts/test (npm test) stops only the services it started: it holds them (scripts/services up
// --hold) and releases them on exit. It used to run `scripts/services down` on exit, which also
// stopped a set that was running before it (npm run dev's, or another test run's on that folder).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { outputOf } from '../helpers/process.ts';
import { databaseForSuite } from '../helpers/stores.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('scripts/test and the services it finds (Redis here; MongoDB is the test one, given)', function () {
  // Real scripts/test runs of a one-test file, each starting or stopping at most one redis-server.
  this.timeout(180_000);
  const database = databaseForSuite('testscript');
  let dir: string;
  let spec: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-script-'));
    spec = join(dir, 'one.test.ts');
    writeFileSync(spec, "it('runs', () => {});\n");
  });
  afterEach(async () => {
    await run(['scripts/services', 'down']);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // Only what a shell would have: not this run's queue, part files, services or metering.
  const env = () => ({
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    HOME: process.env.HOME ?? '',
    GATEHOUSE_SERVICES_DIR: join(dir, 'services'),
    MONGODB_URI: database.uri,
  });
  async function run(args: string[]) {
    const exit = await outputOf(spawn('bash', args, { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] }), 150_000, args.join(' '));
    expect(exit.code, `${args.join(' ')}: ${exit.stdout}\n${exit.stderr}`).to.equal(0);
    return exit;
  }
  // Its own reporter: the one-test run writes nothing under .data (this run's summary and timings).
  const testRun = () => run(['scripts/test', '--reporter', 'dot', spec]);
  const redisPidFile = () => join(dir, 'services', 'redis.pid');

  it('leaves running a Redis that was running before it (a plain scripts/services up)', async () => {
    await run(['scripts/services', 'up']);
    const redis = Number(readFileSync(redisPidFile(), 'utf8'));
    const exit = await testRun();
    expect(exit.stdout).to.include('1 passing');
    expect(alive(redis), 'the Redis that ran before').to.equal(true);
    expect(Number(readFileSync(redisPidFile(), 'utf8'))).to.equal(redis);
  });

  it('stops the Redis it started itself', async () => {
    expect(existsSync(redisPidFile())).to.equal(false);
    const exit = await testRun();
    expect(exit.stdout).to.include('1 passing');
    expect(exit.stderr).to.include('services: starting redis-server');
    expect(existsSync(redisPidFile()), 'its pid file').to.equal(false);
  });
});
