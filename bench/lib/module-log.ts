/**
 * `node --import=bench/lib/module-log.ts`: appends every module the process loads (seconds since
 * its start, source length, URL) to `$BENCH_MODULE_LOG_DIR/modules-<pid>.txt` (bench/live-heap.ts
 * reads it). Nothing is written without the setting.
 */
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const dir = process.env.BENCH_MODULE_LOG_DIR;
if (dir !== undefined && dir !== '') {
  const file = `${dir}/modules-${process.pid}.txt`;
  registerHooks({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      const source = result.source as string | Uint8Array | null | undefined;
      appendFileSync(file, `${process.uptime().toFixed(2)}\t${source == null ? 0 : source.length}\t${url}\n`);
      return result;
    },
  });
}
