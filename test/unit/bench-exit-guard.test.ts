import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const RUN = new URL('../fixtures/bench-exit-guard-run.ts', import.meta.url).pathname;

/** Running: the pid exists and is not a zombie (an orphan killed at exit may wait for its reaper). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Servers the runs started: whatever a failing test leaves running is killed after it. */
const servers: number[] = [];

/** A miniature bench run (test/fixtures/bench-exit-guard-run.ts) left `way`; its server's pid, exit code, output. */
async function benchRun(way: string, afterStart: (run: { pid: number }) => void = () => {}): Promise<{ serverPid: number; code: number | null; stdout: string[]; stderr: string }> {
  const run = spawn(process.execPath, [RUN, way], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  run.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const stdout: string[] = [];
  let serverPid = 0;
  createInterface({ input: run.stdout }).on('line', (line) => {
    stdout.push(line);
    const pid = /^server (\d+)$/.exec(line)?.[1];
    if (pid !== undefined) {
      serverPid = Number(pid);
      servers.push(serverPid);
      afterStart({ pid: run.pid! });
    }
  });
  const code = await new Promise<number | null>((resolve) => run.once('close', (exitCode) => resolve(exitCode)));
  return { serverPid, code, stdout, stderr };
}

describe('bench exit guard (bench/lib/exit-guard.ts)', () => {
  afterEach(() => {
    for (const pid of servers.splice(0)) if (running(pid)) process.kill(pid, 'SIGKILL');
  });

  it('stops the server and the service when the run throws, once each', async () => {
    const { serverPid, code, stdout, stderr } = await benchRun('throw');
    expect(serverPid).to.be.above(0);
    expect(code).to.equal(1);
    expect(stderr).to.contain('the run crashed').and.contain('bench: crashed: stopping service, server');
    expect(running(serverPid)).to.equal(false);
    expect(stdout.filter((line) => line === 'service stopped')).to.have.length(1);
  });

  it('stops them when the run ends in an unhandled rejection', async () => {
    const { serverPid, code, stdout, stderr } = await benchRun('reject');
    expect(code).to.equal(1);
    expect(stderr).to.contain('the run was rejected');
    expect(running(serverPid)).to.equal(false);
    expect(stdout.filter((line) => line === 'service stopped')).to.have.length(1);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops them on ${signal} and exits 128 + the signal's number`, async () => {
      const { serverPid, code, stdout } = await benchRun('wait', ({ pid }) => process.kill(pid, signal));
      expect(code).to.equal(signal === 'SIGTERM' ? 143 : 130);
      expect(running(serverPid)).to.equal(false);
      expect(stdout.filter((line) => line === 'service stopped')).to.have.length(1);
    });
  }

  it('kills the server on process.exit() (no event loop left: SIGKILL at once)', async () => {
    const { serverPid, code, stdout } = await benchRun('exit');
    expect(code).to.equal(3);
    expect(stdout.filter((line) => line === 'service stopped')).to.have.length(1);
    // SIGKILL was sent before the run ended; the kernel may take a moment to end the process.
    for (let wait = 0; running(serverPid) && wait < 1000; wait += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(running(serverPid)).to.equal(false);
  });

  it('stops nothing a second time after the run stopped it itself', async () => {
    const { serverPid, code, stdout, stderr } = await benchRun('finally');
    expect(code).to.equal(1);
    expect(stderr).to.contain('the run crashed after stopping').and.not.contain('bench: crashed: stopping');
    expect(running(serverPid)).to.equal(false);
    expect(stdout.filter((line) => line === 'service stopped')).to.have.length(1);
  });
});
