/**
 * The event loop's real CPU by package, from Linux `perf` (bench/profile.ts --perf; docs/PERFORMANCE.md,
 * driver14). V8's own profiler charges the wall time between two samples to the second one's
 * stack: on a loaded machine a `write` that wakes another process is where the event loop loses
 * its core, and the profile charges the whole wait to `writeBuffer`/`writeUtf8String`. `perf`
 * with the `cpu-clock` event samples the thread only while it runs. JavaScript frames are named
 * from the `/tmp/perf-<pid>.map` that `node --perf-basic-prof` writes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';

/** Starts recording one thread (`perf record -t`); the returned function stops it and waits for the file. */
export function startPerfRecord(tid: number, file: string): () => Promise<void> {
  const perf = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', '999', '-g', '-t', String(tid), '-o', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = once(perf, 'exit');
  return async () => {
    perf.kill('SIGINT');
    await exited;
  };
}

/** The package a JavaScript frame's script belongs to (`gatehouse` for dist/), none for Node's own. */
function packageOf(frame: string): string | undefined {
  if (!frame.startsWith('JS:')) return undefined;
  const script = /(\/\S+?\.(?:js|cjs|mjs))(?::\d+)*(?:\s|$)/.exec(frame)?.[1];
  if (script === undefined) return undefined;
  if (script.includes('/node_modules/')) {
    const parts = script.slice(script.lastIndexOf('/node_modules/') + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  return script.includes('/dist/') ? 'gatehouse' : undefined;
}

const isWrite = (stack: readonly string[]) => stack.some((frame) => /\b(?:__x64_sys_write|__x64_sys_writev|ksys_write|__sys_sendmsg)\b/.test(frame));

/**
 * Shares of the recorded thread's samples: by package (each sample charged to its innermost
 * frame in a package; Node's own frames to the package that called them), and the `write`
 * system calls by the package that made them.
 */
export function perfShares(file: string, tid: number): string {
  const script = spawnSync('perf', ['script', '-i', file, '--tid', String(tid), '-F', 'ip,sym'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (script.status !== 0) throw new Error(`perf script failed: ${script.stderr}`);
  const stacks: string[][] = [];
  let stack: string[] | undefined;
  for (const line of script.stdout.split('\n')) {
    if (line.trim() === '') {
      if (stack !== undefined && stack.length > 0) stacks.push(stack);
      stack = undefined;
      continue;
    }
    // "<ip> <symbol>": the frames of one sample, innermost first.
    (stack ??= []).push(line.trim().replace(/^[0-9a-f]+ /, ''));
  }
  if (stack !== undefined && stack.length > 0) stacks.push(stack);
  const byPackage = new Map<string, number>();
  const writes = new Map<string, number>();
  const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  for (const frames of stacks) {
    const owner = frames.map(packageOf).find((name) => name !== undefined) ?? (frames.some((frame) => frame.startsWith('JS:')) ? '(Node, no package above)' : '(no JavaScript: GC, runtime, kernel)');
    add(byPackage, owner);
    if (isWrite(frames)) add(writes, owner);
  }
  const total = stacks.length;
  const lines = (map: Map<string, number>) =>
    [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([name, count]) => `${((count / total) * 100).toFixed(1).padStart(5)}%  ${name}`).join('\n');
  const writeTotal = [...writes.values()].reduce((sum, count) => sum + count, 0);
  return `event loop's CPU by package (perf, ${total} samples, Node's own frames charged to their caller):\n${lines(byPackage)}\n\nof it, \`write\` system calls: ${((writeTotal / Math.max(1, total)) * 100).toFixed(1)}%, by the package that wrote:\n${lines(writes)}\n`;
}
