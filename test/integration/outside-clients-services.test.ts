import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { outputOf } from '../helpers/process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The machine's own Node (v20 on these machines) is enough for the stand-ins below. */
const SYSTEM_PATH = '/usr/local/bin:/usr/bin:/bin';

/** A production server that answers every request (discovery included) with `{}`, and says which Redis it was given. */
const STAND_IN_SERVER = `import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
writeFileSync(process.env.OUTSIDE_TEST_RECORD + '/server-redis', process.env.REDIS_URL ?? '');
createServer((request, response) => response.end('{}')).listen(Number(process.env.PORT), process.env.HOST);
`;
/**
 * The CLI: what a created client prints. Its first call runs OUTSIDE_TEST_DURING (a shell line):
 * what another terminal does while the run goes on.
 */
const STAND_IN_CLI = `import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
const marker = process.env.OUTSIDE_TEST_RECORD + '/during-ran';
if (!existsSync(marker) && process.env.OUTSIDE_TEST_DURING) {
  writeFileSync(marker, '');
  execFileSync('bash', ['-c', process.env.OUTSIDE_TEST_DURING], { stdio: 'inherit' });
}
process.stdout.write(JSON.stringify({ client_id: 'c', client_secret: 's' }));
`;

/**
 * scripts/outside-clients/run.sh in a copy of the checkout whose dist/ holds stand-ins (no build,
 * no relying-party libraries), on real local databases (FerretDB on SQLite and Redis, in the
 * copy's .data/services), beside an `npm run dev` that holds them (scripts/services up --hold).
 * Who stops the databases is what is checked.
 */
describe('scripts/outside-clients/run.sh: the local databases it uses, held while it runs (scripts/services up --hold)', function () {
  this.timeout(240_000);
  let tree: string;
  let record: string;
  const holders: ChildProcess[] = [];

  before(() => {
    tree = mkdtempSync(join(tmpdir(), 'gatehouse-outside-'));
    mkdirSync(join(tree, 'scripts', 'outside-clients'), { recursive: true });
    mkdirSync(join(tree, 'dist', 'cli'), { recursive: true });
    copyFileSync(join(ROOT, 'scripts', 'outside-clients', 'run.sh'), join(tree, 'scripts', 'outside-clients', 'run.sh'));
    copyFileSync(join(ROOT, 'scripts', 'services'), join(tree, 'scripts', 'services'));
    writeFileSync(join(tree, 'dist', 'main.js'), STAND_IN_SERVER);
    writeFileSync(join(tree, 'dist', 'cli', 'main.js'), STAND_IN_CLI);
    writeFileSync(join(tree, 'package.json'), '{"type":"module"}');
    record = join(tree, 'record');
  });
  beforeEach(() => {
    rmSync(record, { recursive: true, force: true });
    mkdirSync(record);
  });
  afterEach(async () => {
    await services(['down']);
    for (const holder of holders.splice(0)) holder.kill('SIGKILL');
  });
  after(() => rmSync(tree, { recursive: true, force: true }));

  const env = () => ({ PATH: SYSTEM_PATH, HOME: process.env.HOME ?? '', GATEHOUSE_FERRETDB_BACKEND: 'sqlite', OUTSIDE_TEST_RECORD: record });
  /** `bash scripts/services ARGS` of the copy: its sourceable lines as a record. */
  async function services(args: string[]): Promise<Record<string, string>> {
    const exit = await outputOf(spawn('bash', [join(tree, 'scripts', 'services'), ...args], { cwd: tree, env: env(), stdio: ['ignore', 'pipe', 'pipe'] }), 90_000, `scripts/services ${args.join(' ')}`);
    expect(exit.code, `${args.join(' ')}: ${exit.stderr}`).to.equal(0);
    return linesOf(exit.stdout);
  }
  const linesOf = (text: string): Record<string, string> =>
    Object.fromEntries(
      text
        .trim()
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).replace(/^''$/, '').replaceAll('\\ ', ' ')]),
    );
  /** A process that uses the databases (as npm run dev does) until the test ends it. */
  function holder(): ChildProcess & { pid: number } {
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    holders.push(child);
    return child as ChildProcess & { pid: number };
  }
  /** Which of the two `scripts/services status` says run. */
  async function running(): Promise<string[]> {
    const exit = await outputOf(spawn('bash', [join(tree, 'scripts', 'services'), 'status'], { cwd: tree, env: env(), stdio: ['ignore', 'pipe', 'pipe'] }), 90_000, 'scripts/services status');
    return ['mongo', 'redis'].filter((name) => new RegExp(`^${name}: running`, 'm').test(exit.stdout));
  }
  /** The run, with `during` (a shell line) run by its first CLI call; its exit and what `during` printed. */
  async function run(during: string) {
    const child = spawn('bash', [join(tree, 'scripts', 'outside-clients', 'run.sh'), 'none'], { cwd: tree, env: { ...env(), OUTSIDE_TEST_DURING: during }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exit = await outputOf(child, 180_000, 'scripts/outside-clients/run.sh');
    // No relying party ran ("none" is no language): the run says so and fails; everything before it ran.
    expect(exit.stderr, exit.stderr).to.include('unknown: none');
    expect(existsSync(join(record, 'during-ran')), exit.stderr).to.equal(true);
    return { exit, pid: child.pid! };
  }
  const duringOutput = () => linesOf(readFileSync(join(record, 'during'), 'utf8'));

  it("npm run dev's Ctrl-C during the run leaves the databases to the run, whose end then stops them", async () => {
    const dev = holder();
    expect((await services(['up', '--hold', String(dev.pid)])).GATEHOUSE_SERVICES_STARTED).to.equal('mongo redis');
    const { pid } = await run(`bash scripts/services release ${dev.pid} >"$OUTSIDE_TEST_RECORD/during"`);
    // Before, the run held nothing: dev's release stopped both under it.
    expect(duringOutput()).to.deep.equal({ GATEHOUSE_SERVICES_STOPPED: '', GATEHOUSE_SERVICES_HOLDERS: String(pid) });
    expect(readFileSync(join(record, 'server-redis'), 'utf8')).to.match(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(await running(), 'stopped by the run, their last holder').to.deep.equal([]);
  });

  it('what the run started keeps running while an npm run dev that came meanwhile uses it; that one\'s Ctrl-C stops it', async () => {
    const dev = holder();
    await run(`bash scripts/services up --hold ${dev.pid} >"$OUTSIDE_TEST_RECORD/during"`);
    expect(duringOutput().GATEHOUSE_SERVICES_STARTED).to.equal('');
    // Before, the run stopped what it had started (`down mongo redis`), under npm run dev.
    expect(await running(), 'kept for npm run dev').to.deep.equal(['mongo', 'redis']);
    expect(await services(['release', String(dev.pid)])).to.include({ GATEHOUSE_SERVICES_STOPPED: 'redis mongo', GATEHOUSE_SERVICES_HOLDERS: '' });
  });

  it('databases running before the run, held by nobody (npm run cli, scripts/services up), keep running after it', async () => {
    expect((await services(['up'])).GATEHOUSE_SERVICES_STARTED).to.equal('mongo redis');
    await run('true');
    expect(await running()).to.deep.equal(['mongo', 'redis']);
  });
});
