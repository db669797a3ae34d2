/**
 * Loaded into a server by `node --import` (bench/allocation-sites.ts): V8's sampling heap
 * profiler, started and stopped from outside. While `$BENCH_ALLOCATION_SITES_DIR/<pid>.start`
 * exists it samples every allocation (objects the young and the old generation's collections
 * freed included: a request's garbage is what it is after); when `<pid>.stop` appears it writes
 * the profile to `<pid>.heapprofile` (Chrome DevTools reads it too), and can be started again. Nothing without the setting.
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { isMainThread } from 'node:worker_threads';

const dir = process.env.BENCH_ALLOCATION_SITES_DIR;
if (isMainThread && dir !== undefined && dir !== '') {
  const base = `${dir}/${process.pid}`;
  const session = new Session();
  session.connect();
  let state: 'idle' | 'sampling' | 'writing' = 'idle';
  const poll = setInterval(() => {
    if (state === 'idle' && existsSync(`${base}.start`)) {
      state = 'sampling';
      rmSync(`${base}.start`, { force: true });
      void session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    } else if (state === 'sampling' && existsSync(`${base}.stop`)) {
      state = 'writing';
      rmSync(`${base}.stop`, { force: true });
      void session.post('HeapProfiler.stopSampling').then(({ profile }) => {
        writeFileSync(`${base}.next`, JSON.stringify(profile));
        renameSync(`${base}.next`, `${base}.heapprofile`);
        state = 'idle';
      });
    }
  }, 50);
  poll.unref();
}
