import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { formsOf, UserAgent } from '../helpers/browserless.ts';
import { within } from '../helpers/poll.ts';
import { childEnv, outputOf, runCli } from '../helpers/process.ts';
import { freePort } from '../helpers/redis-server.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The machine's own Node (v20 on these machines), as a fresh shell would find it. */
const SYSTEM_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * `step`, or a failure naming it, the time each earlier step took and what the processes
 * printed, once `limitMs` passed. The limits wait for real processes (Node starting with type
 * stripping, the seed, Redis) on a machine that may be very busy: generous, they only turn a
 * hang into a readable failure.
 */
function withLimit<T>(limitMs: number, what: string, step: Promise<T>, report: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${limitMs} ms\n${report()}`)), limitMs);
  });
  return Promise.race([step, late]).finally(() => clearTimeout(timer));
}

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * `bash scripts/cli ARGS` as a second terminal runs it. Not spawnSync: a CLI start takes tens of
 * seconds on a busy machine, and a blocked event loop would not see the server close an idle
 * keep-alive connection meanwhile (65 s), so the next fetch would be sent on it and fail with
 * "other side closed".
 */
async function cliRun(args: string[], env: Record<string, string>) {
  const exit = await outputOf(spawn('bash', ['scripts/cli', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }), 120_000, `scripts/cli ${args.join(' ')}`);
  return { status: exit.code, stdout: exit.stdout, stderr: exit.stderr };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the README commands on a machine whose Node is older than 22.18', () => {
  it('scripts/lib/node.sh puts a Node >= 22.18 first on PATH (shared by dev, test, cli and CI)', () => {
    const result = spawnSync('bash', ['-c', 'source scripts/lib/node.sh && gatehouse_use_node && node -p process.versions.node'], {
      cwd: ROOT,
      env: { PATH: SYSTEM_PATH, HOME: process.env.HOME ?? '' },
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).to.equal(0);
    const [major, minor] = result.stdout.trim().split('.').map(Number);
    expect(major! > 22 || (major === 22 && minor! >= 18), result.stdout).to.equal(true);
    for (const script of ['scripts/dev', 'scripts/test', 'scripts/cli', '.ci/run']) {
      expect(readFileSync(join(ROOT, script), 'utf8'), script).to.include('source scripts/lib/node.sh');
    }
  });
});

describe('npm run dev', () => {
  const database = databaseForSuite('devscript');
  // Made when the block runs, not when mocha loads the file (a process that runs other files only would keep it, empty).
  let data: string;
  before(() => (data = mkdtempSync(join(tmpdir(), 'gatehouse-dev-'))));
  after(() => rmSync(data, { recursive: true, force: true }));

  it('prints how to run the CLI against it, the CLI reaches its data, shows the mails it sends, and Ctrl-C stops what it started', async function () {
    // The sum of the steps' limits below, and some.
    this.timeout(480_000);
    const started = Date.now();
    const steps: string[] = [];
    const step = (name: string) => steps.push(`${name} after ${Date.now() - started} ms`);
    const port = await freePort();
    // MongoDB from the test services; Redis is started by the dev script itself (REDIS_URL unset).
    const env = { PATH: SYSTEM_PATH, HOME: process.env.HOME ?? '', PORT: String(port), MONGODB_URI: database.uri, GATEHOUSE_DEV_DATA: data };
    const dev = spawn('bash', ['scripts/dev'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    // 'close', not 'exit': the output of the script and of the server it started must be read to the end.
    const exited = new Promise<number | null>((resolve) => dev.once('close', (code) => resolve(code)));
    dev.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    dev.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const report = () => `${steps.join('; ')}\n${output.slice(-4000)}`;
    try {
      const ready = new Promise<void>((resolve, reject) => {
        const check = () => (output.includes('"msg":"gatehouse ready"') ? resolve() : undefined);
        dev.stdout.on('data', check);
        dev.stderr.on('data', check);
        void exited.then((code) => reject(new Error(`npm run dev exited with ${code}: ${output}`)));
      });
      await withLimit(240_000, 'npm run dev ready', ready, report);
      step('ready');
      expect(output).to.include('npm run cli -- clients list');
      // Where a newcomer goes next: the console (with how to get the admin it needs), the account page, doctor.
      expect(output).to.include(`console     http://localhost:${port}/console/`).and.include('--role admin --password-stdin');
      expect(output).to.include(`account     http://localhost:${port}/account/`);
      expect(output).to.include(`npm run cli -- doctor http://localhost:${port}`);
      expect(output).to.match(/Ctrl-C stops Gatehouse and the local databases/);
      // The demo client is an SPA at http://localhost:8080: a browser app there may call the token
      // endpoint (CORS), so a real SPA pointed at the demo gets the code's answer, not "origin not allowed".
      const fromSpa = await fetch(`http://localhost:${port}/token`, {
        method: 'POST',
        headers: { origin: 'http://localhost:8080', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'demo-spa', code: 'not-a-code', redirect_uri: 'http://localhost:8080/callback', code_verifier: 'gatehouse-dev-demo-code-verifier-0123456789abcdef' }).toString(),
      });
      expect(await fromSpa.json()).to.include({ error: 'invalid_grant' });
      expect(fromSpa.headers.get('access-control-allow-origin')).to.equal('http://localhost:8080');

      // A local mail catcher: "Forgot password?" for the demo user shows the mail, link included.
      const smtp = /Mail {8}smtp:\/\/127\.0\.0\.1:(\d+) {3}local mail catcher/.exec(output);
      expect(smtp, output).to.not.equal(null);
      const agent = new UserAgent();
      const forgot = `http://localhost:${port}/password/forgot`;
      const [form] = formsOf(await (await agent.request(forgot)).text());
      const sent = await agent.postForm(new URL(form!.action, forgot).href, { ...form!.fields, login: 'demo' });
      expect(sent.status).to.equal(200);
      const mailed = new Promise<void>((resolve) => {
        const check = () => (/\/password\/reset\/[A-Za-z0-9_-]{43}/.test(output) ? resolve() : undefined);
        check();
        dev.stdout.on('data', check);
        dev.stderr.on('data', check);
      });
      await withLimit(60_000, 'the reset mail on the terminal', mailed, report);
      step('mail');
      expect(output).to.match(/dev mail → demo@example\.com {2}"[^"]+"/);
      expect(readdirSync(join(data, 'mail')).filter((file) => file.endsWith('.eml'))).to.have.length(1);

      const cli = await cliRun(['clients', 'list', '--json'], env);
      step('cli');
      expect(cli.status, `${cli.stderr}\n${report()}`).to.equal(0);
      const clients = JSON.parse(cli.stdout) as Array<{ client_id: string }>;
      expect(clients.map((client) => client.client_id), 'the dev seed client, seen through the CLI').to.include('demo-spa');
      // The CLI in a second terminal knows the server's mail catcher: email is configured there.
      const settings = await cliRun(['settings', 'get', 'sign-in'], env);
      expect(settings.status, `${settings.stderr}\n${report()}`).to.equal(0);
      expect(settings.stdout).to.include('self_registration').and.not.include('GATEHOUSE_SMTP_URL is not set');

      // A second terminal that never set PORT: the CLI takes the running server's port and issuer,
      // so an admin client it makes gets tokens for this server's admin API.
      const { PORT: _port, ...secondTerminal } = env;
      const created = await cliRun(['clients', 'create', '--name', 'ops-bot', '--admin', '--json'], secondTerminal);
      expect(created.status, `${created.stderr}\n${report()}`).to.equal(0);
      const bot = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
      const adminToken = await fetch(`http://localhost:${port}/token`, {
        method: 'POST',
        headers: { authorization: clientSecretBasic(bot.client_id, bot.client_secret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'admin', resource: `http://localhost:${port}/admin/api/v1` }).toString(),
      });
      expect(adminToken.status, await adminToken.clone().text()).to.equal(200);

      const redisPid = Number(readFileSync(join(data, 'services', 'redis.pid'), 'utf8'));
      expect(alive(redisPid), 'dev started its own Redis').to.equal(true);
      process.kill(-dev.pid!, 'SIGINT');
      await withLimit(120_000, 'Ctrl-C stopping npm run dev', exited, report);
      step('stopped');
      expect(output, report()).to.include('"msg":"shutdown complete"');
      expect(output).to.include('dev: stopped Gatehouse and the local databases (redis): no other npm run dev uses them');
      expect(alive(redisPid), 'Ctrl-C stopped the Redis that dev started').to.equal(false);
      expect(await listening(Number(smtp![1])), 'Ctrl-C stopped the mail catcher').to.equal(false);
      expect(existsSync(join(data, 'services', 'redis.pid'))).to.equal(false);
      expect(existsSync(join(data, 'dev-mail.env')), 'the catcher\'s address is gone with it').to.equal(false);
      expect(existsSync(join(data, 'dev-server.env')), 'and the server\'s port').to.equal(false);
      if (process.env.DEV_SCRIPTS_TRACE) console.log(steps.join('; '));
    } finally {
      if (dev.exitCode === null) process.kill(-dev.pid!, 'SIGKILL');
      spawnSync('bash', ['scripts/services', 'down'], { cwd: ROOT, env: { ...env, GATEHOUSE_SERVICES_DIR: join(data, 'services') } });
    }
  });

  it('on a port already in use says so in one line naming the port and PORT, before any banner, and starts nothing', async function () {
    this.timeout(120_000);
    const busy = createServer();
    // Where another `npm run dev` (or anything else) already listens; Gatehouse binds 0.0.0.0 by default.
    const port = await new Promise<number>((resolve, reject) => {
      busy.once('error', reject);
      busy.listen(0, () => resolve((busy.address() as import('node:net').AddressInfo).port));
    });
    const ownData = mkdtempSync(join(tmpdir(), 'gatehouse-dev-busy-'));
    const env = { PATH: SYSTEM_PATH, HOME: process.env.HOME ?? '', PORT: String(port), MONGODB_URI: database.uri, GATEHOUSE_DEV_DATA: ownData };
    // Its own process group: a run that does not stop by itself (the server's `node --watch` waiting after EADDRINUSE) is ended with it.
    const dev = spawn('bash', ['scripts/dev'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    dev.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    dev.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const closed = new Promise<number | null>((resolve) => dev.once('close', resolve));
    try {
      const code = await withLimit(90_000, 'npm run dev on a busy port exits', closed, () => output);
      const result = { code, output };
      expect(result.code, result.output).to.not.equal(0);
      const lines = result.output.trim().split('\n');
      expect(lines, result.output).to.have.length(1);
      expect(lines[0]).to.include(`port ${port}`).and.include('PORT=');
      expect(result.output).to.not.include('npm run cli').and.not.include('EADDRINUSE');
      // Nothing was started for it: no local databases, no mail catcher, no server file for the CLI.
      expect(existsSync(join(ownData, 'services')), 'no local databases started').to.equal(false);
      expect(existsSync(join(ownData, 'dev-server.env'))).to.equal(false);
    } finally {
      if (dev.exitCode === null && dev.signalCode === null) {
        process.kill(-dev.pid!, 'SIGINT');
        await closed;
      }
      busy.close();
      rmSync(ownData, { recursive: true, force: true });
    }
  });
});

describe("npm run dev's banner: the console line", function () {
  // scripts/dev-seed.ts itself (what npm run dev runs before the server), twice: a Node start each.
  this.timeout(180_000);
  const database = databaseForSuite('devbanner');
  const env = () => childEnv({ NODE_ENV: 'development', MONGODB_URI: database.uri, REDIS_URL: process.env.REDIS_URL ?? '', GATEHOUSE_SECRET: randomSecret(), GATEHOUSE_ISSUER: 'http://localhost:3999' });
  const seed = async (settings: Record<string, string>) => {
    const exit = await outputOf(spawn(process.execPath, ['scripts/dev-seed.ts'], { cwd: ROOT, env: settings, stdio: ['ignore', 'pipe', 'pipe'] }), 150_000, 'scripts/dev-seed.ts');
    expect(exit.code, exit.stderr).to.equal(0);
    return /^ {4}console .*(?:\n {18}.*)?$/mu.exec(exit.stderr)![0];
  };

  // Found by a first-hour walk: with an administrator made, the banner still said to make one.
  it('says how to make an administrator while there is none, and names the ones there are after', async () => {
    const settings = env();
    expect(await seed(settings)).to.include('needs a user with the admin role').and.include('npm run cli -- users create --username admin --role admin --password-stdin');
    const made = await runCli(['users', 'create', '--username', 'root-admin', '--role', 'admin', '--password-stdin'], settings, 'a long enough password 123');
    expect(made.code, made.stderr).to.equal(0);
    const line = await seed(settings);
    expect(line).to.equal('    console     http://localhost:3999/console/   (sign in as an administrator: root-admin; more with npm run cli -- roles assign admin --user NAME)');
  });
});

describe('npm run cli beside GATEHOUSE_KEYCLOAK_REALM=acme npm run dev', () => {
  const database = databaseForSuite('devrealm');
  let data: string;
  before(() => (data = mkdtempSync(join(tmpdir(), 'gatehouse-dev-realm-'))));
  after(() => rmSync(data, { recursive: true, force: true }));

  it('takes the running server\'s realm too: doctor at the issuer npm run dev printed finds the CLI\'s settings its own', async function () {
    this.timeout(180_000);
    // The file scripts/dev writes for a second terminal (its pid: this process, alive), for a server
    // in the Keycloak layout on a port where nothing listens (doctor's outside checks fail fast).
    const port = await freePort();
    const written = spawnSync('bash', ['-c', 'source scripts/lib/dev-env.sh && gatehouse_dev_server_env "$1" >"$2"', '_', String(process.pid), join(data, 'dev-server.env')], {
      cwd: ROOT,
      env: { PATH: SYSTEM_PATH, PORT: String(port), GATEHOUSE_ISSUER: `http://localhost:${port}`, GATEHOUSE_KEYCLOAK_REALM: 'acme' },
      encoding: 'utf8',
    });
    expect(written.status, written.stderr).to.equal(0);
    // A second terminal: no PORT, issuer or realm of its own.
    const env = { PATH: SYSTEM_PATH, HOME: process.env.HOME ?? '', MONGODB_URI: database.uri, REDIS_URL: process.env.REDIS_URL ?? '', GATEHOUSE_DEV_DATA: data };
    const doctor = spawnSync('bash', ['scripts/cli', 'doctor', `http://localhost:${port}/realms/acme`, '--json'], { cwd: ROOT, env, encoding: 'utf8', timeout: 150_000 });
    const report = JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; detail: string }> };
    // Before: "these settings are for http://localhost:1: … a token request at http://localhost:1/realms/acme fails if it is another deployment".
    expect(report.checks.filter((check) => check.name === 'settings'), doctor.stdout).to.deep.equal([]);
    expect(report.checks.find((check) => check.name === 'discovery')?.status, doctor.stdout).to.equal('fail');
  });
});

describe('scripts/services: who stops the local databases (Redis here; MongoDB is the test one, given)', function () {
  // Real scripts/services calls, each starting or stopping at most one redis-server.
  this.timeout(120_000);
  const database = databaseForSuite('devholders');
  let dir: string;
  const holders: ChildProcess[] = [];
  before(() => (dir = mkdtempSync(join(tmpdir(), 'gatehouse-holders-'))));
  afterEach(async () => {
    await services(['down']);
    for (const holder of holders.splice(0)) holder.kill('SIGKILL');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const env = () => ({ PATH: SYSTEM_PATH, HOME: process.env.HOME ?? '', GATEHOUSE_DEV_DATA: dir, GATEHOUSE_SERVICES_DIR: join(dir, 'services'), MONGODB_URI: database.uri });
  /** `bash scripts/services ARGS`: its sourceable lines as a record (GATEHOUSE_SERVICES_STARTED=redis, ...). */
  async function services(args: string[]): Promise<Record<string, string>> {
    const exit = await outputOf(spawn('bash', ['scripts/services', ...args], { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] }), 60_000, `scripts/services ${args.join(' ')}`);
    expect(exit.code, `${args.join(' ')}: ${exit.stderr}`).to.equal(0);
    return Object.fromEntries(exit.stdout.trim().split('\n').filter((line) => line.includes('=')).map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at), line.slice(at + 1).replace(/^''$/, '')];
    }));
  }
  /** A process that uses the databases (as npm run dev does) until the test ends it. */
  function holder(): ChildProcess & { pid: number } {
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    holders.push(child);
    return child as ChildProcess & { pid: number };
  }
  const redisPid = () => Number(readFileSync(join(dir, 'services', 'redis.pid'), 'utf8'));

  it('the last holder\'s release stops what holders started; one killed without releasing does not keep them up', async () => {
    const [first, second, third] = [holder(), holder(), holder()];
    expect((await services(['up', '--hold', String(first.pid)])).GATEHOUSE_SERVICES_STARTED).to.equal('redis');
    const redis = redisPid();
    expect((await services(['up', '--hold', String(second.pid)])).GATEHOUSE_SERVICES_STARTED).to.equal('');
    // npm run cli meanwhile: uses them, starts nothing.
    expect((await services(['up'])).GATEHOUSE_SERVICES_STARTED).to.equal('');
    // The first npm run dev's Ctrl-C: the second still uses them.
    expect(await services(['release', String(first.pid)])).to.include({ GATEHOUSE_SERVICES_STOPPED: '', GATEHOUSE_SERVICES_HOLDERS: String(second.pid) });
    expect(alive(redis)).to.equal(true);
    // The second dies without releasing (kill -9); a third comes and goes: its release is the last.
    await services(['up', '--hold', String(third.pid)]);
    const gone = new Promise((resolve) => second.once('exit', resolve));
    second.kill('SIGKILL');
    await gone;
    expect(await services(['release', String(third.pid)])).to.include({ GATEHOUSE_SERVICES_STOPPED: 'redis', GATEHOUSE_SERVICES_HOLDERS: '' });
    expect(alive(redis), 'stopped by the last live holder').to.equal(false);
  });

  /** The live holders `scripts/services status` lists. */
  async function holdersNow(): Promise<string[]> {
    const exit = await outputOf(spawn('bash', ['scripts/services', 'status'], { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] }), 60_000, 'scripts/services status');
    return /^holders: (.*)$/m.exec(exit.stdout)?.[1]?.split(' ') ?? [];
  }

  it('npm run cli holds them while its command runs: npm run dev\'s Ctrl-C meanwhile leaves them to the command, whose end then stops them', async () => {
    const dev = holder();
    expect((await services(['up', '--hold', String(dev.pid)])).GATEHOUSE_SERVICES_STARTED).to.equal('redis');
    const redis = redisPid();
    // A command that is still running: it waits for the password on its standard input.
    const cli = spawn('bash', ['scripts/cli', 'users', 'create', '--username', `held-${process.pid}`, '--password-stdin'], { cwd: ROOT, env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    const ended = outputOf(cli, 120_000, 'scripts/cli users create');
    await within(90_000, async () => (await holdersNow()).includes(String(cli.pid)));
    // npm run dev's Ctrl-C now. Before, it stopped Redis under the command (the CLI held nothing).
    expect(await services(['release', String(dev.pid)])).to.include({ GATEHOUSE_SERVICES_STOPPED: '', GATEHOUSE_SERVICES_HOLDERS: String(cli.pid) });
    expect(alive(redis)).to.equal(true);
    cli.stdin.end('a long enough password');
    const exit = await ended;
    expect(exit.code, exit.stderr).to.equal(0);
    expect(JSON.stringify(exit.stdout)).to.include(`held-${process.pid}`);
    // The command was the last holder of what npm run dev started: its end stopped it.
    expect(alive(redis), 'stopped when the command ended').to.equal(false);
    expect(await holdersNow()).to.deep.equal([]);
  });

  it('what npm run cli started keeps running after its command ends (until scripts/services down), and it holds nothing after', async () => {
    const exit = await outputOf(spawn('bash', ['scripts/cli', 'users', 'list'], { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] }), 120_000, 'scripts/cli users list');
    expect(exit.code, exit.stderr).to.equal(0);
    expect(exit.stderr).to.include('cli: started the local databases (redis); they keep running');
    expect(alive(redisPid())).to.equal(true);
    expect(await holdersNow()).to.deep.equal([]);
    // npm run dev beside it, then its Ctrl-C: the CLI's Redis stays.
    const dev = holder();
    await services(['up', '--hold', String(dev.pid)]);
    expect(await services(['release', String(dev.pid)])).to.include({ GATEHOUSE_SERVICES_STOPPED: '' });
    expect(alive(redisPid())).to.equal(true);
  });

  it('what npm run cli started keeps running after npm run dev\'s Ctrl-C; of two starts at once only the one that started them says so', async () => {
    // Two terminals at once (npm run dev and npm run cli): the lines dev-env.sh gives each of them.
    const start = () =>
      outputOf(spawn('bash', ['-c', 'source scripts/lib/dev-env.sh && gatehouse_dev_env && echo "started=[$GATEHOUSE_DEV_STARTED]"'], { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] }), 60_000, 'gatehouse_dev_env');
    const both = await Promise.all([start(), start()]);
    for (const exit of both) expect(exit.code, exit.stderr).to.equal(0);
    // Before, each judged from a `status` taken before the other's `up` finished: both could say they started Redis.
    expect(both.map((exit) => /started=\[(.*)\]/.exec(exit.stdout)?.[1]).sort(), both.map((exit) => exit.stdout).join('\n')).to.deep.equal(['', 'redis']);
    const redis = redisPid();
    // npm run dev beside what the CLI started, then its Ctrl-C: the CLI's Redis stays.
    const dev = holder();
    expect((await services(['up', '--hold', String(dev.pid)])).GATEHOUSE_SERVICES_STARTED).to.equal('');
    expect(await services(['release', String(dev.pid)])).to.include({ GATEHOUSE_SERVICES_STOPPED: '', GATEHOUSE_SERVICES_HOLDERS: '' });
    expect(alive(redis)).to.equal(true);
  });
});

describe('the development mail catcher (scripts/dev-mail.ts)', () => {
  it('refuses to run in production mode', () => {
    const result = spawnSync(process.execPath, ['scripts/dev-mail.ts'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' }, encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr).to.equal(78);
    expect(result.stdout).to.equal('');
    expect(result.stderr).to.include('refusing to run with NODE_ENV=production');
  });
});
