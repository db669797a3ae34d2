'use strict';
// CPU seconds a test file costs, for .data/test-timings.txt (summary-reporter.cjs): this mocha
// process and every process under it (Chromium's, the CLI children a test starts), plus the
// services it runs on (GATEHOUSE_SERVICES_DIR's *.pid: FerretDB, PostgreSQL and its backends,
// Redis) and theirs. Wall time on a shared machine says how busy the machine was; CPU seconds
// are what a file costs wherever it runs. Read from /proc (Linux; elsewhere nothing is measured).
const fs = require('node:fs');
const path = require('node:path');

/** Linux reports process times in USER_HZ, 100 on every architecture Node supports there. */
const TICKS_PER_SECOND = 100;

/** The pids in the services directory's *.pid files (scripts/services). */
function servicePids(dir) {
  if (!dir) return [];
  let names = [];
  try {
    names = fs.readdirSync(dir).filter((name) => name.endsWith('.pid'));
  } catch {
    return [];
  }
  const pids = [];
  for (const name of names) {
    const pid = Number.parseInt(fs.readFileSync(path.join(dir, name), 'utf8'), 10);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

/**
 * CPU seconds of the processes `roots` and their descendants: each one's own time and what its
 * children that ended took (cutime, cstime), so a process that ended and was reaped within the tree
 * still counts. Undefined without /proc.
 */
function treeCpuSeconds(roots) {
  if (!fs.existsSync('/proc/self/stat')) return undefined;
  const seen = new Set();
  const stack = [...roots];
  let ticks = 0;
  while (stack.length > 0) {
    const pid = stack.pop();
    if (seen.has(pid)) continue;
    seen.add(pid);
    let stat;
    let tasks;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      tasks = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // ended meanwhile
    }
    // Fields after the command name (which may hold spaces): utime, stime, cutime, cstime are 14–17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    for (const task of tasks) {
      let children = '';
      try {
        children = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const child of children.split(' ')) if (child.trim() !== '') stack.push(Number(child));
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** A meter of this process's tree and its services: read() is the CPU seconds used so far (undefined without /proc). */
function cpuMeter(servicesDir = process.env.GATEHOUSE_TEST_METERED_SERVICES) {
  const services = servicePids(servicesDir);
  return { read: () => treeCpuSeconds([process.pid, ...services]) };
}

module.exports = { cpuMeter, treeCpuSeconds };
