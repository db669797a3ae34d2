/**
 * Loaded into a server by `node --import` (bench/compare.ts --allocations): how many bytes the
 * process has allocated on V8's heap so far, written every 50 ms to
 * `$BENCH_ALLOCATION_PROBE_DIR/<pid>.json`. Allocation per request does not depend on how
 * busy the machine is (CPU time per request does, and on a shared machine a lot): what a change
 * removes from a request's garbage shows the same on a quiet and on a loaded machine.
 *
 * Bytes allocated = Σ over garbage collections (young generation used before it − used after the
 * one before), plus what was allocated since the last one (used now − used after it): V8's GC
 * profiler gives each collection's heap statistics, read synchronously, so nothing is counted
 * twice. Objects V8 allocates straight into the old generation (pretenured) are not counted.
 * Main thread only (the hashing workers are not what the stateless scenarios measure).
 *
 * Beside it, what decides the garbage collector's work on V8's helper threads (the `V8Worker`
 * threads bench/compare.ts lists; they scavenge in parallel and mark the old generation
 * concurrently): the bytes young collections moved into the old generation (objects that outlived
 * two of them — the old generation grows by these until a full collection marks all of it), the
 * number of full collections, and the main thread's pause in all collections (the GC profiler's
 * `cost`), and the bytes of machine code in the code spaces now (what the JIT has written).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import { isMainThread } from 'node:worker_threads';

const dir = process.env.BENCH_ALLOCATION_PROBE_DIR;
if (isMainThread && dir !== undefined && dir !== '') {
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/${process.pid}.json`;
  // The young generation only: where a request's objects are made. Code and feedback the JIT
  // writes while it warms up go to other spaces and would count a build's compilation as its garbage.
  const YOUNG = new Set(['new_space', 'new_large_object_space']);
  const used = (spaces: ReadonlyArray<{ spaceName: string; spaceUsedSize: number }>) => spaces.reduce((sum, space) => sum + (YOUNG.has(space.spaceName) ? space.spaceUsedSize : 0), 0);
  const usedNow = () => used(v8.getHeapSpaceStatistics().map((space) => ({ spaceName: space.space_name, spaceUsedSize: space.space_used_size })));
  let profiler = new v8.GCProfiler();
  profiler.start();
  let allocated = 0;
  let usedAfterLast = usedNow();
  let collections = 0;
  const OLD = new Set(['old_space', 'large_object_space']);
  const old = (spaces: ReadonlyArray<{ spaceName: string; spaceUsedSize: number }>) => spaces.reduce((sum, space) => sum + (OLD.has(space.spaceName) ? space.spaceUsedSize : 0), 0);
  let promotedBytes = 0;
  let fullCollections = 0;
  let pauseUs = 0;
  // Machine code the JIT has written (Sparkplug, Maglev, Turbofan): it stops growing when the hot code is compiled (compare.ts --settle prints it per warm-up window).
  const CODE = new Set(['code_space', 'code_large_object_space']);
  const codeNow = () => v8.getHeapSpaceStatistics().reduce((sum, space) => sum + (CODE.has(space.space_name) ? space.space_used_size : 0), 0);
  /** Never less than a count already written (the heap shrinks when sweeping ends, between two collections). */
  let reported = 0;
  const flush = () => {
    const data = profiler.stop();
    profiler = new v8.GCProfiler();
    profiler.start();
    for (const gc of data?.statistics ?? []) {
      allocated += Math.max(0, used(gc.beforeGC.heapSpaceStatistics) - usedAfterLast);
      usedAfterLast = used(gc.afterGC.heapSpaceStatistics);
      collections += 1;
      pauseUs += gc.cost;
      if (gc.gcType === 'MarkSweepCompact') fullCollections += 1;
      else promotedBytes += Math.max(0, old(gc.afterGC.heapSpaceStatistics) - old(gc.beforeGC.heapSpaceStatistics));
    }
    const since = Math.max(0, usedNow() - usedAfterLast);
    reported = Math.max(reported, allocated + since);
    // Written aside and renamed: a reader never sees half a file.
    writeFileSync(`${file}.next`, JSON.stringify({ allocatedBytes: reported, collections, promotedBytes, fullCollections, pauseUs, codeBytes: codeNow() }));
    renameSync(`${file}.next`, file);
  };
  flush();
  setInterval(flush, 50).unref();
}
