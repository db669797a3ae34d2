import { readdirSync, readFileSync } from 'node:fs';

/*
 * A server measured from /proc (Linux) as the whole process tree it started: with
 * GATEHOUSE_WORKERS its supervisor and every worker process (a single Gatehouse has no child
 * processes: its hashing pool is threads, counted with the process).
 */

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state ppid pgrp ...
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // ended meanwhile
  }
}

/** The process and all its descendants alive now. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = Number(statFields(Number(entry))?.[1]);
    if (!Number.isFinite(ppid)) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree = [pid];
  for (let index = 0; index < tree.length; index += 1) tree.push(...(children.get(tree[index]!) ?? []));
  return tree;
}

function cpuMsOf(fields: string[] | undefined): number {
  return fields === undefined ? 0 : ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** CPU milliseconds (user + system, all threads) the tree's processes alive now have used so far. */
export function treeCpuMs(pid: number): number {
  return processTree(pid).reduce((sum, each) => sum + cpuMsOf(statFields(each)), 0);
}

/** The same for each process's main thread alone: the event loops (no hashing, GC or libuv threads). */
export function treeEventLoopCpuMs(pid: number): number {
  let total = 0;
  for (const each of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${each}/task/${each}/stat`, 'utf8');
      total += cpuMsOf(stat.slice(stat.lastIndexOf(')') + 2).split(' '));
    } catch {
      // ended meanwhile
    }
  }
  return total;
}

/** Resident set size of the tree in bytes (the sum of its processes'). */
export function treeRssBytes(pid: number): number {
  let total = 0;
  for (const each of processTree(pid)) {
    try {
      const line = readFileSync(`/proc/${each}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:'));
      total += Number(line?.replace(/\D+/g, '') ?? 0) * 1024;
    } catch {
      // ended meanwhile
    }
  }
  return total;
}

/** Threads of the tree's processes alive now (event loops, libuv, V8 platform and GC, hashing). */
export function treeThreads(pid: number): number {
  let total = 0;
  for (const each of processTree(pid)) {
    try {
      total += readdirSync(`/proc/${each}/task`).length;
    } catch {
      // ended meanwhile
    }
  }
  return total;
}

/**
 * Context switches so far of every thread alive now in the tree, voluntary (the thread waited:
 * epoll, a lock, a futex) and involuntary (the scheduler took the core away: other runnable
 * threads wanted it), and the event loops' alone. Threads that ended meanwhile drop out.
 */
export function treeContextSwitches(pid: number): { voluntary: number; involuntary: number; loopVoluntary: number; loopInvoluntary: number } {
  const totals = { voluntary: 0, involuntary: 0, loopVoluntary: 0, loopInvoluntary: 0 };
  eachThreadFile(pid, 'status', (status, isEventLoop) => {
    const voluntary = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const involuntary = Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    totals.voluntary += voluntary;
    totals.involuntary += involuntary;
    if (isEventLoop) {
      totals.loopVoluntary += voluntary;
      totals.loopInvoluntary += involuntary;
    }
  });
  return totals;
}

/**
 * Milliseconds the tree's threads alive now have spent runnable but waiting for a core (the
 * second field of /proc/<pid>/task/<tid>/schedstat), all threads and the event loops alone: on a
 * shared machine, the time the scheduler gave to others while a request was ready to run.
 */
export function treeRunQueueWaitMs(pid: number): { all: number; loops: number } {
  const totals = { all: 0, loops: 0 };
  eachThreadFile(pid, 'schedstat', (schedstat, isEventLoop) => {
    const waitMs = Number(schedstat.split(' ')[1]) / 1e6;
    totals.all += waitMs;
    if (isEventLoop) totals.loops += waitMs;
  });
  return totals;
}

/**
 * Reads /proc/<pid>/task/<tid>/<file> of every thread alive now in the tree; `isEventLoop` is
 * the process's main thread. Processes and threads that end meanwhile drop out.
 */
function eachThreadFile(pid: number, file: string, visit: (text: string, isEventLoop: boolean, taskDir: string) => void): void {
  for (const each of processTree(pid)) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${each}/task`);
    } catch {
      continue; // ended meanwhile
    }
    for (const tid of tasks) {
      let text: string;
      try {
        text = readFileSync(`/proc/${each}/task/${tid}/${file}`, 'utf8');
      } catch {
        continue; // ended meanwhile
      }
      visit(text, Number(tid) === each, `/proc/${each}/task/${tid}`);
    }
  }
}

/** CPU milliseconds so far of each process's main thread (its event loop), by pid. */
export function eventLoopCpuByProcess(pid: number): Map<number, number> {
  const byProcess = new Map<number, number>();
  for (const each of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${each}/task/${each}/stat`, 'utf8');
      byProcess.set(each, cpuMsOf(stat.slice(stat.lastIndexOf(')') + 2).split(' ')));
    } catch {
      // ended meanwhile
    }
  }
  return byProcess;
}

/**
 * CPU milliseconds so far of the tree's threads other than the event loops, by thread name
 * (Node 24 names them: `V8Worker` — V8's platform threads, where parallel scavenges, concurrent
 * marking and background compiles run —, `libuv-worker` — libuv's pool: WebCrypto's signatures,
 * zlib, DNS —, `DelayedTaskSche`, `SignalInspector`, and any the process starts itself). What a
 * server spends outside its event loops, and on what: a request that leaves more garbage shows
 * up under `V8Worker`, a signature under `libuv-worker`. Threads that ended meanwhile drop out.
 */
export function treeCpuByThreadName(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  eachThreadFile(pid, 'stat', (stat, isEventLoop) => {
    if (isEventLoop) return;
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    byName.set(name, (byName.get(name) ?? 0) + cpuMsOf(stat.slice(stat.lastIndexOf(')') + 2).split(' ')));
  });
  return byName;
}

/**
 * CPU milliseconds so far of the tree's threads by thread name, the event loops as `main`, read
 * from schedstat (nanoseconds: finer than stat's 10 ms ticks, for per-request budgets of a few
 * milliseconds). Threads that end meanwhile drop out.
 */
export function treeSchedCpuMsByName(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  eachThreadFile(pid, 'schedstat', (schedstat, isEventLoop, taskDir) => {
    let name = 'main';
    if (!isEventLoop) {
      try {
        name = readFileSync(`${taskDir}/comm`, 'utf8').trim();
      } catch {
        return; // ended meanwhile
      }
    }
    byName.set(name, (byName.get(name) ?? 0) + Number(schedstat.split(' ')[0]) / 1e6);
  });
  return byName;
}
