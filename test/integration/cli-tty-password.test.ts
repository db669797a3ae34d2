import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { verify } from '@node-rs/argon2';
import { expect } from 'chai';
import { connectMongo } from '../../src/storage/mongo.ts';
import { CLI, childEnv, outputOf, runCli } from '../helpers/process.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

const FAST = { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1', GATEHOUSE_HASH_POOL_SIZE: '1' };

/**
 * Runs the CLI binary on a pseudo-terminal (python3's pty module): waits until the prompt is on the
 * terminal, then types `keys`, and prints everything the terminal showed. Event-driven: keys are
 * typed only once the prompt appeared, so the program is already reading without echo.
 */
const DRIVER = String.raw`
import os, pty, sys, json
prompt, keys, argv = sys.argv[1].encode(), sys.argv[2].encode('latin-1'), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
seen = b''
typed = False
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if not typed and prompt in seen:
        os.write(fd, keys)
        typed = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(json.dumps({'screen': seen.decode('utf-8', 'replace'), 'code': os.waitstatus_to_exitcode(status), 'typed': typed}))
`;

interface Terminal {
  screen: string;
  code: number;
  typed: boolean;
}

async function onTerminal(args: string[], env: Record<string, string>, keys: string, prompt = 'Password'): Promise<Terminal> {
  const child = spawn('python3', ['-c', DRIVER, prompt, keys, process.execPath, CLI, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = await outputOf(child);
  expect(exit.code, exit.stderr).to.equal(0);
  return JSON.parse(exit.stdout) as Terminal;
}

describe('gatehouse CLI secrets typed at a terminal: --password-stdin, --private-key-stdin (pseudo-terminal, real stores)', function () {
  // Two CLI processes on a busy 2-core machine.
  this.timeout(120_000);
  const database = databaseForSuite('cli_tty');
  const secret = randomSecret();
  const env = () => ({ NODE_ENV: 'test', MONGODB_URI: database.uri, GATEHOUSE_SECRET: secret, GATEHOUSE_ISSUER: 'http://127.0.0.1:1', ...FAST });

  it('prompts on the terminal, does not echo what is typed (backspace edits it) and creates the user', async () => {
    const term = await onTerminal(['users', 'create', '--username', 'tty-alice', '--password-stdin', '--json'], env(), 'secret-tty-passwordX\x7f-9\r');
    expect(term.typed, term.screen).to.equal(true);
    expect(term.code, term.screen).to.equal(0);
    expect(term.screen).to.include('Password');
    expect(term.screen).not.to.include('secret-tty');
    expect(term.screen).not.to.include('password-9');
    expect(term.screen).to.include('"username":"tty-alice"');
  });

  it('Ctrl-C aborts with a non-zero exit and creates nothing', async () => {
    const term = await onTerminal(['users', 'create', '--username', 'tty-bob', '--password-stdin', '--json'], env(), 'half-typed\x03');
    expect(term.typed, term.screen).to.equal(true);
    expect(term.code, term.screen).to.equal(130);
    expect(term.screen).not.to.include('half-typed');
    const listed = await runCli(['users', 'list', '--json'], env());
    expect((JSON.parse(listed.stdout) as { users: Array<{ username: string }> }).users.map((u) => u.username)).to.deep.equal(['tty-alice']);
  });

  async function storedHash(username: string): Promise<string> {
    const connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    try {
      const user = await connection.db!.collection<{ username: string; passwordHash: string }>('users').findOne({ username });
      return user!.passwordHash;
    } finally {
      await connection.close();
    }
  }

  it('arrow keys and other escape sequences typed into the prompt are not part of the password', async () => {
    // ← → Home (CSI), ↑ (SS3), Delete, Alt-x: a person correcting a typo where no cursor moves.
    const term = await onTerminal(['users', 'create', '--username', 'tty-carol', '--password-stdin', '--json'], env(), 'arrow\x1b[D\x1b[C\x1b[H\x1bOA-keys\x1b[3~\x1bx-kept\r');
    expect(term.code, term.screen).to.equal(0);
    expect(term.screen).not.to.include('arrow');
    const hash = await storedHash('tty-carol');
    expect(await verify(hash, 'arrow-keys-kept'), 'the password without the escape sequences').to.equal(true);
  });

  it('--private-key-stdin reads a PEM key typed (pasted) at the terminal, hidden, up to its END line', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const body = pem.split('\n')[1]!;
    const args = ['idps', 'create', '--alias', 'tty-corp', '--kind', 'oidc', '--issuer', 'https://login.corp.test', '--client-id', 'gatehouse', '--private-key-stdin', '--json'];
    const term = await onTerminal(args, env(), pem.trim().replaceAll('\n', '\r') + '\r', 'Private key');
    expect(term.typed, term.screen).to.equal(true);
    expect(term.code, term.screen).to.equal(0);
    expect(term.screen).not.to.include(body.slice(0, 16));
    expect(term.screen).not.to.include('BEGIN PRIVATE KEY');
    const shown = JSON.parse(term.screen.slice(term.screen.indexOf('{'))) as { alias: string; token_endpoint_auth_method: string; has_private_key: boolean };
    expect(shown).to.include({ alias: 'tty-corp', token_endpoint_auth_method: 'private_key_jwt', has_private_key: true });
  });
});
