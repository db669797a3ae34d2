import { spawn } from 'node:child_process';
import { expect } from 'chai';
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

async function onTerminal(args: string[], env: Record<string, string>, keys: string): Promise<Terminal> {
  const child = spawn('python3', ['-c', DRIVER, 'Password', keys, process.execPath, CLI, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = await outputOf(child);
  expect(exit.code, exit.stderr).to.equal(0);
  return JSON.parse(exit.stdout) as Terminal;
}

describe('gatehouse CLI --password-stdin typed at a terminal (pseudo-terminal, real stores)', function () {
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
});
