import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { CLI, childEnv, outputOf, type Exit } from '../helpers/process.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

/**
 * Registered in the child before the CLI runs: every module it loads (after resolution) is
 * written to $LOADED_FILE, one URL a line, when the process exits.
 */
const RECORD_LOADS = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
process.on('exit', () => writeFileSync(process.env.LOADED_FILE, loaded.join('\\n')));
`)}`;

const SRC = new URL('../../src/', import.meta.url).href;
const own = (path: string) => new URL(path, SRC).href;

/** What a help text or a mistyped command line has no use for: store drivers, the OIDC library, password hashing. */
const HEAVY = ['/node_modules/mongoose/', '/node_modules/mongodb/', '/node_modules/ioredis/', '/node_modules/oidc-provider/', '/node_modules/@node-rs/argon2'];

describe('gatehouse starts only what the command line needs', function () {
  // A few real Node starts (each loads only the CLI's own few modules; seconds at most on a busy machine).
  this.timeout(120_000);
  const database = databaseForSuite('cli_start_loads');
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-loads-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function loadsOf(args: string[], env: Record<string, string> = {}): Promise<{ exit: Exit; loaded: string[] }> {
    const file = join(dir, `loaded-${args.join('_').replace(/\W/g, '')}.txt`);
    const child = spawn(process.execPath, ['--import', RECORD_LOADS, CLI, ...args], { env: childEnv({ ...env, LOADED_FILE: file }), stdio: ['ignore', 'pipe', 'pipe'] });
    const exit = await outputOf(child, undefined, `gatehouse ${args.join(' ')}`);
    return { exit, loaded: readFileSync(file, 'utf8').split('\n') };
  }

  const heavyIn = (loaded: string[]) => loaded.filter((url) => HEAVY.some((part) => url.includes(part)));
  const commandModules = (loaded: string[]) => loaded.filter((url) => url.startsWith(own('cli/commands/'))).map((url) => fileURLToPath(url).split('/').at(-1));

  it('--help, a command\'s --help and an unknown command load no store driver, oidc-provider, argon2 or command module', async () => {
    for (const args of [['--help'], ['users', 'create', '--help'], ['clinets', 'lsit']]) {
      const { exit, loaded } = await loadsOf(args);
      expect(exit.code, exit.stderr).to.equal(args[0] === 'clinets' ? 2 : 0);
      // The recording works: the CLI's own modules are in it.
      expect(loaded, args.join(' ')).to.include(own('cli/help.ts'));
      expect(heavyIn(loaded), args.join(' ')).to.deep.equal([]);
      expect(commandModules(loaded), args.join(' ')).to.deep.equal([]);
      expect(loaded, args.join(' ')).to.not.include(own('composition/core.ts'));
    }
  });

  it('a flag error loads its own command module only, and still no store driver, oidc-provider or argon2', async () => {
    const env = { NODE_ENV: 'test', MONGODB_URI: 'mongodb://127.0.0.1:9/never-contacted', GATEHOUSE_SECRET: randomSecret() };
    for (const [args, module] of [
      [['users', 'create', '--username', 'ann', '--bogus'], 'users.ts'],
      [['export', '--output', join(dir, 'never.json'), '--bogus'], 'transfer.ts'],
      [['consents', 'list', '--bogus'], 'consents.ts'],
      [['apis', 'create', '--bogus'], 'apis.ts'],
    ] as const) {
      const { exit, loaded } = await loadsOf([...args], env);
      expect(exit.code, exit.stderr).to.equal(2);
      expect(exit.stderr, args.join(' ')).to.include('unknown option --bogus');
      expect(heavyIn(loaded), args.join(' ')).to.deep.equal([]);
      expect(commandModules(loaded), args.join(' ')).to.deep.equal([module]);
    }
  });

  it('a command composes what it runs on, but not the WebAuthn library or, without GATEHOUSE_SMTP_URL, the mail templates and SMTP client', async () => {
    const { exit, loaded } = await loadsOf(['users', 'list', '--json'], { NODE_ENV: 'test', MONGODB_URI: database.uri, GATEHOUSE_SECRET: randomSecret() });
    expect(exit.code, exit.stderr).to.equal(0);
    expect(JSON.parse(exit.stdout)).to.have.property('users');
    expect(loaded.some((url) => url.includes('/node_modules/mongoose/'))).to.equal(true);
    expect(loaded.filter((url) => ['/node_modules/@simplewebauthn/', '/node_modules/nodemailer/', '/node_modules/ejs/'].some((part) => url.includes(part)))).to.deep.equal([]);
    expect(commandModules(loaded)).to.deep.equal(['users.ts']);
  });

  it('a command that works on the database alone, reading or writing, does not load oidc-provider', async () => {
    const env = { NODE_ENV: 'test', MONGODB_URI: database.uri, GATEHOUSE_SECRET: randomSecret() };
    for (const args of [['users', 'list'], ['clients', 'list'], ['apis', 'create', '--identifier', 'https://loads.example.com', '--scope', 'read'], ['groups', 'create', 'loaders']]) {
      const { exit, loaded } = await loadsOf(args, env);
      expect(exit.code, `${args.join(' ')}: ${exit.stderr}`).to.equal(0);
      expect(loaded, args.join(' ')).to.include(own('composition/core.ts'));
      // Before: 183 of the library's modules, for the errors of the storage adapters and a registration's audit event.
      expect(loaded.filter((url) => url.includes('/node_modules/oidc-provider/')), args.join(' ')).to.deep.equal([]);
    }
  });
});
