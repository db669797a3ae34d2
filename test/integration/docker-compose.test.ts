// No Docker engine runs here, so the README's Docker start is checked the way Compose would run
// it: the README's one-liner writes .env, docker-compose.yml's gatehouse environment is
// interpolated from it exactly as Compose does, and the production build (dist/main.js, what the
// Dockerfile runs) starts with that environment. Only the addresses change: the mongo and redis
// service names become the test services, and the port a free one.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { serveMain } from '../helpers/process.ts';
import { freePort } from '../helpers/redis-server.ts';
import { databasesForSuite, randomSecret, serviceUrls } from '../helpers/stores.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The package's `bin` (what `gatehouse` is in the image and after an install): the built CLI. */
const BIN = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { gatehouse: string } }).bin.gatehouse;

/** The `environment:` mapping of one service in docker-compose.yml (flat `KEY: value` lines). */
function composeEnvironment(yaml: string, service: string): Record<string, string> {
  const lines = yaml.split('\n');
  const start = lines.findIndex((line) => line === `  ${service}:`);
  expect(start, `service ${service} in docker-compose.yml`).to.be.greaterThan(-1);
  const envStart = lines.findIndex((line, index) => index > start && line === '    environment:');
  const environment: Record<string, string> = {};
  for (const line of lines.slice(envStart + 1)) {
    if (/^\s*#/.test(line)) continue;
    const match = /^ {6}([A-Z_][A-Z0-9_]*): ?(.*)$/.exec(line);
    if (match === null) break;
    environment[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1');
  }
  return environment;
}

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (_all, name: string, colon: string, op: string, arg: string) => {
    const set = vars[name] !== undefined && (colon !== ':' || vars[name] !== '');
    if (set) return vars[name]!;
    if (op === '?') throw new Error(`compose refuses to start: ${name}: ${arg}`);
    return op === '-' ? arg : '';
  });
}

function parseDotEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe("the README's Docker one-liner (docker-compose.yml's environment, production build)", () => {
  const database = databasesForSuite();
  // Made when the block runs, not when the file loads: a mocha process that loads this file but
  // leaves it to another (scripts/test's file queue) makes nothing to clean up.
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'gatehouse-compose-'));
  });
  after(async () => {
    rmSync(work, { recursive: true, force: true });
  });

  it('.dockerignore keeps dependencies, local data (the dev secret), build output and .env out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim());
    for (const entry of ['node_modules', '.data', 'dist', '.env', '.git']) expect(ignored, entry).to.include(entry);
  });

  it('starts a working SSO with its first administrator, and the README says how to get another one', async function () {
    // The production build (≈ 6 CPU-s), then dist/main.js started and the CLI run twice (≈ 4 CPU-s):
    // 25 s wall at load 3, past 240 s at load 50 on the shared 2 cores (CI, round 26): ≈ 4× that.
    this.timeout(900_000);
    // The build's JavaScript without its type check or module resolution (--noCheck --noResolve:
    // the same files, byte for byte, in a third of the CPU of the checked build, which reads every
    // package's types): the type check is `npm run lint`'s, which CI runs; this test is about what runs.
    const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--noCheck', '--noResolve'], { cwd: ROOT, encoding: 'utf8' });
    expect(build.status, build.stdout + build.stderr).to.equal(0);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const oneLiner = readme.split('\n').find((line) => line.endsWith('docker compose up'));
    expect(oneLiner, 'a README line ending in `docker compose up`').to.be.a('string');
    const written = spawnSync('bash', ['-c', oneLiner!.replace(/;?\s*docker compose up$/, '')], { cwd: work, encoding: 'utf8' });
    expect(written.status, written.stderr).to.equal(0);
    const dotEnv = parseDotEnv(readFileSync(join(work, '.env'), 'utf8'));
    expect(dotEnv.GATEHOUSE_SECRET, 'the one-liner writes the master secret').to.have.length.of.at.least(32);
    // Running the one-liner again keeps the secret (a new one could not read the stored keys).
    spawnSync('bash', ['-c', oneLiner!.replace(/;?\s*docker compose up$/, '')], { cwd: work });
    expect(parseDotEnv(readFileSync(join(work, '.env'), 'utf8'))).to.deep.equal(dotEnv);

    const compose = composeEnvironment(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), 'gatehouse');
    const environment = Object.fromEntries(Object.entries(compose).map(([name, value]) => [name, interpolate(value, dotEnv)]));
    expect(environment.NODE_ENV).to.equal('production');
    expect(environment.MONGODB_URI).to.match(/^mongodb:\/\/mongo:27017\//);
    expect(environment.REDIS_URL).to.equal('redis://redis:6379');
    const port = await freePort();
    const env: Record<string, string> = {
      ...environment,
      PORT: String(port),
      MONGODB_URI: database('compose'),
      REDIS_URL: serviceUrls().redisUrl,
      PATH: process.env.PATH ?? '',
    };

    const server = spawn(process.execPath, ['dist/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const check = () => (output.includes('"msg":"gatehouse ready"') ? resolve() : undefined);
        server.stdout.on('data', (chunk: Buffer) => ((output += chunk.toString()), check()));
        server.stderr.on('data', (chunk: Buffer) => ((output += chunk.toString()), check()));
        void exited.then((code) => reject(new Error(`dist/main.js exited with ${code}: ${output}`)));
      });
      expect(output, 'the first administrator from .env').to.include('"msg":"bootstrap administrator created"');
      const base = `http://127.0.0.1:${port}`;
      const discovery = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as { issuer: string };
      expect(discovery.issuer).to.equal('http://localhost:3000');
      expect((await fetch(`${base}/readyz`)).status).to.equal(200);
      expect((await fetch(`${base}/auth?client_id=nobody`)).status, 'hosted pages answer').to.equal(400);

      // The README's way to add an administrator inside the container: the CLI with the server's environment.
      const command = readme.split('\n').find((line) => line.includes('docker compose exec -T gatehouse gatehouse users create'));
      expect(command, 'README: creating an administrator with the CLI').to.be.a('string');
      const args = command!.slice(command!.indexOf('gatehouse users create') + 'gatehouse '.length).split(/\s+/);
      expect(args.slice(0, 2)).to.deep.equal(['users', 'create']);
      const second = spawnSync(process.execPath, [BIN, ...args.map((arg, index) => (args[index - 1] === '--username' ? 'second-admin' : arg)), '--json'], {
        cwd: ROOT,
        env,
        input: 'another-long-password',
        encoding: 'utf8',
      });
      expect(second.status, second.stderr).to.equal(0);
      const admins = spawnSync(process.execPath, [BIN, 'users', 'list', '--role', 'admin', '--json'], { cwd: ROOT, env, encoding: 'utf8' });
      expect(admins.status, admins.stderr).to.equal(0);
      const usernames = (JSON.parse(admins.stdout) as { users: Array<{ username: string }> }).users.map((user) => user.username);
      expect(usernames.sort()).to.deep.equal(['admin', 'second-admin']);
    } finally {
      server.kill('SIGTERM');
      await exited;
    }
  });

  it('hands every .env setting to Gatehouse (an optional env_file), while environment: keeps the database addresses', async function () {
    // A Gatehouse started (src/main.ts, ≈ 2 CPU-s): past mocha's 30 s at load 50 (CI, round 26).
    this.timeout(120_000);
    const yaml = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const service = yaml.slice(yaml.indexOf('\n  gatehouse:\n'), yaml.indexOf('\n    environment:\n', yaml.indexOf('\n  gatehouse:\n')));
    // Optional: `docker compose config` and `up` work without .env (the secret from the shell).
    expect(service).to.match(/\n {4}env_file:\n {6}- path: \.env\n {8}required: false(\n|$)/);
    // What Compose gives the container: the env_file's variables, overridden by environment:.
    const dotEnv = { GATEHOUSE_SECRET: randomSecret(), GATEHOUSE_BRAND_NAME: 'Acme Sign-in', MONGODB_URI: 'mongodb://elsewhere:27017/x' };
    const environment = Object.fromEntries(Object.entries(composeEnvironment(yaml, 'gatehouse')).map(([name, value]) => [name, interpolate(value, dotEnv)]));
    const container = { ...dotEnv, ...environment };
    expect(container.MONGODB_URI).to.match(/^mongodb:\/\/mongo:27017\//);
    const server = await serveMain({ ...container, PORT: '0', HOST: '127.0.0.1', MONGODB_URI: database('compose_envfile'), REDIS_URL: serviceUrls().redisUrl });
    try {
      const page = await fetch(`${server.url}/device`);
      expect(await page.text()).to.include('Acme Sign-in');
    } finally {
      await server.stop();
    }
  });

  it('without admin settings (the old one-liner: only GATEHOUSE_SECRET) it starts and says how to create an administrator', async function () {
    // A Gatehouse started, as above.
    this.timeout(120_000);
    const compose = composeEnvironment(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), 'gatehouse');
    const environment = Object.fromEntries(Object.entries(compose).map(([name, value]) => [name, interpolate(value, { GATEHOUSE_SECRET: randomSecret() })]));
    const server = await serveMain({ ...environment, PORT: '0', HOST: '127.0.0.1', MONGODB_URI: database('compose_noadmin'), REDIS_URL: serviceUrls().redisUrl });
    try {
      expect(server.output()).to.include('no administrator yet');
      expect(server.output()).to.include('gatehouse users create --username NAME --role admin --password-stdin');
    } finally {
      await server.stop();
    }
  });
});
