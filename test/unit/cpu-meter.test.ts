import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';

const { cpuMeter, treeCpuSeconds } = createRequire(import.meta.url)('../helpers/cpu-meter.cjs') as {
  cpuMeter(servicesDir?: string): { read(): number | undefined };
  treeCpuSeconds(roots: number[]): number | undefined;
};

/**
 * /proc counts user and system time apart, each in whole 10 ms ticks, so a process that used 300 ms
 * may read as 0.28 s (each part cut down by up to a tick), and the difference of two sums of
 * such readings carries floating-point noise: 0.25 s is the least a 300 ms burn can show. Nothing
 * counted shows ~0.
 */
const COUNTED_300_MS = 0.25;

/** A child process that runs until it has used `ms` of CPU itself (not a length of time), then ends. */
function burn(ms: number): void {
  const result = spawnSync(process.execPath, ['-e', `while ((process.cpuUsage().user + process.cpuUsage().system) / 1000 < ${ms});`]);
  expect(result.status).to.equal(0);
}

describe("a test file's CPU seconds (test/helpers/cpu-meter.cjs)", () => {
  it('counts the CPU of a child process that ended (reaped) in its parent, so the tree keeps it', () => {
    const before = treeCpuSeconds([process.pid])!;
    burn(300);
    const after = treeCpuSeconds([process.pid])!;
    expect(after - before).to.be.at.least(COUNTED_300_MS);
  });

  it("adds the services named by a scripts/services directory's pid files (outside this process's tree), and skips a pid file whose process is gone", () => {
    // A service stand-in as scripts/services leaves one: started in a subshell that exits, so not
    // under this process. It uses 0.3 CPU-s, then prints its pid (the shell returns with it) and waits.
    const stand = `while ((process.cpuUsage().user + process.cpuUsage().system) / 1000 < 300); console.log(process.pid); setInterval(() => {}, 1000)`;
    const started = spawnSync('bash', ['-c', `( exec ${JSON.stringify(process.execPath)} -e '${stand}' 2>/dev/null </dev/null & ) | head -n 1`]);
    const pid = Number(String(started.stdout).trim());
    expect(pid).to.be.greaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cpu-meter-'));
    try {
      writeFileSync(join(dir, 'service.pid'), `${pid}\n`);
      writeFileSync(join(dir, 'gone.pid'), `${String(spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout).trim()}\n`);
      const alone = cpuMeter(join(dir, 'no-such-directory')).read()!;
      const withService = cpuMeter(dir).read()!;
      expect(withService - alone).to.be.at.least(COUNTED_300_MS);
    } finally {
      process.kill(pid);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
