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
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Starts recording processes, every thread of each (`perf record -p`: the event loop, V8's helper
 * threads, libuv's pool; with workers the supervisor and each worker); the returned function
 * stops it and waits for the file.
 */
export function startPerfRecord(pids: readonly number[], file: string): () => Promise<void> {
  const perf = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', '999', '-g', '-p', pids.join(','), '-o', file], { stdio: ['ignore', 'ignore', 'inherit'] });
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
 * Leaves in `node --perf-basic-prof`'s map (/tmp/perf-<pid>.map) only the newest entry wherever
 * two overlap. V8 appends a line per code object it makes and never removes one; when a code
 * object dies (a function optimized again, deoptimized, collected) its addresses are reused, and
 * `perf script` then picks one of the overlapping names at random: after a long warm-up a few
 * hundred entries overlap, and perf20 found koa's `set` charged with a stream's `write` (the
 * `clearBuffer` code that reused its addresses) and `copyJson` at 24 µs/req in one recording and
 * 1.8 in the next. The newest entry is the code at that address from its making on, so for a
 * recording taken after the warm-up (when the JIT has settled) it is the right one. Rewrites the
 * file in place; answers how many entries it dropped.
 */
export function newestPerfMapEntries(pid: number): number {
  const file = `/tmp/perf-${pid}.map`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  const entries = text.split('\n').flatMap((line, order) => {
    const match = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    return match === null ? [] : [{ start: parseInt(match[1]!, 16), end: parseInt(match[1]!, 16) + parseInt(match[2]!, 16), order, line }];
  });
  // Newest first: an entry is kept unless a newer kept one overlaps it.
  const kept: typeof entries = [];
  const byStart = [...entries].sort((a, b) => b.order - a.order);
  const taken: Array<{ start: number; end: number }> = [];
  for (const entry of byStart) {
    if (taken.some((range) => entry.start < range.end && range.start < entry.end)) continue;
    taken.push(entry);
    kept.push(entry);
  }
  kept.sort((a, b) => a.order - b.order);
  writeFileSync(file, `${kept.map((entry) => entry.line).join('\n')}\n`);
  return entries.length - kept.length;
}

/**
 * A sample whose innermost frame is where the kernel switches a thread back in or re-enables
 * interrupts: the timer that takes `perf record -e cpu-clock`'s samples could not fire earlier,
 * so the sample lands late, on whatever JavaScript the thread was preempted in. On a loaded
 * (virtual) machine these are 5–20 % of the event loop's samples and pile up on one or two
 * functions per recording (perf20 saw `copyJson` at 24 µs/req in one recording and 1.8 in the
 * next, koa's `set` at 31 µs/req, the reference's `rejectDupes` at 20): they are listed apart, not
 * charged to the frame below.
 */
const LATE_SAMPLE = /^(finish_task_switch|_raw_spin_unlock_irqrestore|__schedule|schedule_tail|__irq_exit_rcu|irqentry_exit)/;
export const LATE = '(late samples: landed where a thread is switched back in or interrupts are re-enabled)';

/** A JavaScript frame's function and where it is (`name file:line`, the file relative to its package or dist/), for the by-function lists. */
function functionOf(frame: string): string {
  const match = /^JS:[*~^+]?(\S*)\s+(\S+?)(?::(\d+))?(?::\d+)?$/.exec(frame);
  if (match === null) return frame;
  const [, name, script, line] = match;
  const short = script!.includes('/node_modules/') ? script!.slice(script!.lastIndexOf('/node_modules/') + '/node_modules/'.length) : script!.includes('/dist/') ? script!.slice(script!.lastIndexOf('/dist/') + '/dist/'.length) : script!;
  return `${name === '' ? '(anonymous)' : name} ${short}${line === undefined ? '' : `:${line}`}`;
}

/**
 * Shares of the recorded threads' samples (the event loop; with workers, every worker's together): by package (each sample charged to its innermost
 * frame in a package; Node's own frames to the package that called them), the functions that
 * are charged most (the innermost frame in a package, with the Node code it calls), Gatehouse's
 * functions alone, and the `write` system calls by the package that made them. With `requests`
 * (answered while perf recorded), each line also reads as CPU µs per request: `perf record -F
 * 999` takes a sample per millisecond of CPU the thread used, so the same reading of the
 * reference and of Gatehouse compare (bench/profile.ts --perf [--reference]).
 */
export function perfShares(file: string, tids: readonly number[], requests?: number): string {
  const script = spawnSync('perf', ['script', '-i', file, '--tid', tids.join(','), '-F', 'ip,sym'], { encoding: 'utf8', maxBuffer: 1 << 30 });
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
  const byFunction = new Map<string, number>();
  const gatehouseFunctions = new Map<string, number>();
  const writes = new Map<string, number>();
  const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  for (const frames of stacks) {
    if (LATE_SAMPLE.test(frames[0] ?? '')) {
      add(byPackage, LATE);
      if (isWrite(frames)) add(writes, LATE);
      continue;
    }
    const index = frames.findIndex((frame) => packageOf(frame) !== undefined);
    const owner = index >= 0 ? packageOf(frames[index]!)! : frames.some((frame) => frame.startsWith('JS:')) ? '(Node, no package above)' : '(no JavaScript: GC, runtime, kernel)';
    add(byPackage, owner);
    if (index >= 0) add(byFunction, `${owner}: ${functionOf(frames[index]!)}`);
    // Gatehouse's functions with everything they call (Node's code and other packages' too): the innermost dist/ frame.
    const ours = frames.find((frame) => packageOf(frame) === 'gatehouse');
    if (ours !== undefined) add(gatehouseFunctions, functionOf(ours));
    if (isWrite(frames)) add(writes, owner);
  }
  const total = stacks.length;
  const perRequest = (count: number) => (requests === undefined || requests === 0 ? '' : `  ${((count * (1_000_000 / 999)) / requests).toFixed(1).padStart(7)} µs/req`);
  const lines = (map: Map<string, number>, top = 20) =>
    [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, count]) => `${((count / total) * 100).toFixed(1).padStart(5)}%${perRequest(count)}  ${name}`).join('\n');
  const writeTotal = [...writes.values()].reduce((sum, count) => sum + count, 0);
  const header = `event loop's CPU by package (perf, ${total} samples${requests === undefined ? '' : `, ${requests} requests: ${perRequest(total).trim()}`}, Node's own frames charged to their caller):`;
  return `${header}\n${lines(byPackage)}\n\nby function (the innermost frame in a package, with the Node code it calls):\n${lines(byFunction, 40)}\n\nGatehouse's functions with everything they call (the innermost dist/ frame of each sample):\n${lines(gatehouseFunctions, 30)}\n\nof it, \`write\` system calls: ${((writeTotal / Math.max(1, total)) * 100).toFixed(1)}%, by the package that wrote:\n${lines(writes)}\n`;
}

/** What a thread's sample was doing, from the native frames inside its innermost JavaScript (a helper thread runs none: its whole stack); V8's own C++ names. */
const HELPER_WORK: ReadonlyArray<readonly [string, RegExp]> = [
  ['GC: young generation (scavenge)', /Scaveng|MinorMark|MinorGC/],
  ['GC: marking the old generation', /ConcurrentMarking|MarkCompact|Marking|IncrementalMarking/],
  ['GC: sweeping, compaction', /Sweeper|Sweep|Evacuat|Compaction|PointersUpdating/],
  ['JIT: compiling (Maglev, Turbofan, baseline)', /compiler::|maglev::|Compile|baseline::|interpreter::/],
  ['WebCrypto / OpenSSL', /EVP_|RSA_|BN_|bn_|ecp_|sha256|SHA256|ossl_|crypto::/],
];
const CRYPTO = 'WebCrypto / OpenSSL';
const CRYPTO_FRAME = HELPER_WORK.find(([name]) => name === CRYPTO)![1];

/**
 * Where a crypto sample of the event loop came from: its outermost crypto frame inside the
 * innermost JavaScript frame (frames run innermost first), and that JavaScript — which call of Node's crypto
 * (a hash, a KeyObject's export, a cipher, WebCrypto's job set-up) and who made it.
 */
function cryptoEntry(frames: readonly string[], js: number): string {
  let outer = -1;
  for (let index = (js < 0 ? frames.length : js) - 1; index >= 0; index -= 1) {
    if (CRYPTO_FRAME.test(frames[index]!)) {
      outer = index;
      break;
    }
  }
  const native = outer < 0 ? '[none]' : frames[outer]!.replace(/\(.*$/, '');
  const caller = js < 0 ? undefined : frames.slice(js).find((frame) => frame.startsWith('JS:'));
  return `${native} ← ${caller === undefined ? '(no JavaScript)' : functionOf(caller)}`;
}

/**
 * The threads other than the event loops (`loops`: the main threads of the process, or of every
 * worker; a supervisor's, `supervisor`, is named apart), from the same recording: CPU µs
 * per request by thread name (Node 24 names them: `V8Worker` — parallel scavenges, concurrent
 * marking and sweeping, background compiles —, `libuv-worker` — WebCrypto's signatures —, …),
 * each split by what its samples were doing (any frame of the stack: scavenge, marking,
 * sweeping, compiling, crypto) and its top native functions (the innermost frame): what the
 * work outside the event loop is, which compare.ts's per-thread CPU only totals. The event loop
 * gets the same split (the GC's pauses and the JIT's work on the main thread) and its innermost functions (which C++ or OpenSSL code the loop itself ran).
 */
export function threadShares(file: string, loops: readonly number[], requests?: number, supervisor?: number): string {
  const script = spawnSync('perf', ['script', '-i', file, '-F', 'comm,tid,ip,sym'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (script.status !== 0) throw new Error(`perf script failed: ${script.stderr}`);
  return threadSharesOf(script.stdout, loops, requests, supervisor);
}

/** threadShares of `perf script -F comm,tid,ip,sym`'s output. */
export function threadSharesOf(script: string, loops: readonly number[], requests?: number, supervisor?: number): string {
  const byThread = new Map<string, number>();
  const bySymbol = new Map<string, Map<string, number>>();
  const byWork = new Map<string, Map<string, number>>();
  const add = (maps: Map<string, Map<string, number>>, thread: string, key: string) => {
    const map = maps.get(thread) ?? new Map<string, number>();
    map.set(key, (map.get(key) ?? 0) + 1);
    maps.set(thread, map);
  };
  let thread: string | undefined;
  let frames: string[] = [];
  // The event loop's crypto samples: the innermost native function, and where the loop entered it from JavaScript.
  const loopCrypto = new Map<string, Map<string, number>>();
  // The event loop's inline-cache work (V8's `Builtins_…IC…`: property loads and stores that missed
  // their fast path, polymorphic or megamorphic), by the JavaScript function that ran it.
  const loopIc = new Map<string, number>();
  const flush = () => {
    if (thread !== undefined) {
      byThread.set(thread, (byThread.get(thread) ?? 0) + 1);
      add(bySymbol, thread, (frames[0] ?? '[unknown]').replace(/\(.*$/, ''));
      // What the thread ran is what lies inside the innermost JavaScript frame: a native frame
      // further out is code that called into JavaScript — on the event loop, WebCrypto's
      // `CryptoJob::AfterThreadPoolWork` resolves the signature's promise and the rest of the
      // request's JavaScript runs inside it (perf20 read that as 51 µs/token of OpenSSL).
      // (V8's builtins — `Builtins_…`, the interpreter, inline caches, promise jobs — run JavaScript too.)
      const js = frames.findIndex((frame) => frame.startsWith('JS:') || frame.startsWith('Builtins_'));
      const native = js < 0 ? frames : frames.slice(0, js);
      const work = LATE_SAMPLE.test(frames[0] ?? '') ? LATE : (HELPER_WORK.find(([, pattern]) => native.some((frame) => pattern.test(frame)))?.[0] ?? (frames.some((frame) => frame.startsWith('JS:')) ? 'JavaScript' : 'other'));
      add(byWork, thread, work);
      if (thread === '(event loop)' && /^Builtins_\w*IC/.test(frames[0] ?? '')) {
        const caller = frames.find((frame) => frame.startsWith('JS:'));
        const key = `${(frames[0] ?? '').replace(/\(.*$/, '')} ← ${caller === undefined ? '(no JavaScript)' : functionOf(caller)}`;
        loopIc.set(key, (loopIc.get(key) ?? 0) + 1);
      }
      if (thread === '(event loop)' && work === CRYPTO) {
        add(loopCrypto, 'innermost', (frames[0] ?? '[unknown]').replace(/\(.*$/, ''));
        add(loopCrypto, 'entry', cryptoEntry(frames, js));
      }
    }
    thread = undefined;
    frames = [];
  };
  for (const line of script.split('\n')) {
    if (line.trim() === '') {
      flush();
      continue;
    }
    // A sample's header "<comm> <tid>" (unindented), then its frames "<ip> <symbol>", innermost first.
    if (thread === undefined && !/^\s/.test(line)) {
      const header = /^(.*?)\s+(\d+)\s*$/.exec(line);
      const tid = Number(header?.[2]);
      if (header !== null) thread = loops.includes(tid) ? '(event loop)' : tid === supervisor ? '(supervisor)' : header[1]!;
      continue;
    }
    if (thread !== undefined) frames.push(line.trim().replace(/^[0-9a-f]+ /, ''));
  }
  flush();
  const total = [...byThread.values()].reduce((sum, count) => sum + count, 0);
  const perRequest = (count: number) => (requests === undefined || requests === 0 ? '' : `  ${((count * (1_000_000 / 999)) / requests).toFixed(1).padStart(7)} µs/req`);
  const top = (map: Map<string, number>, count: number, limit: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([key, hits]) => `        ${((hits / count) * 100).toFixed(1).padStart(5)}% of it${perRequest(hits)}  ${key}`);
  const out = [`every thread's CPU (perf, ${total} samples${requests === undefined ? '' : `, ${requests} requests`}), by thread name, what it did, and (helper threads) its top native functions:`];
  for (const [name, count] of [...byThread].sort((a, b) => b[1] - a[1])) {
    out.push(`${((count / Math.max(1, total)) * 100).toFixed(1).padStart(5)}%${perRequest(count)}  ${name}`);
    out.push(...top(byWork.get(name)!, count, 8));
    out.push('      innermost functions:', ...top(bySymbol.get(name)!, count, 8));
    if (name === '(event loop)' && loopIc.size > 0) {
      out.push('      its inline caches that missed their fast path (the IC builtin ← the JavaScript that ran it):', ...top(loopIc, count, 16));
    }
    if (name === '(event loop)' && loopCrypto.has('entry')) {
      out.push(`      of its ${CRYPTO}, the innermost functions:`, ...top(loopCrypto.get('innermost')!, count, 10));
      out.push(`      and where the loop entered it (the outermost native crypto frame ← the JavaScript that called it):`, ...top(loopCrypto.get('entry')!, count, 12));
    }
  }
  return `${out.join('\n')}\n`;
}
