import { command } from '../command-line.ts';
import { cliActor, withOperations } from '../services.ts';

/**
 * gatehouse caches flush: every running instance forgets its cached records (after a database
 * restore or a manual edit), through the same operation as the admin API's POST /caches/flush.
 */
export const cachesFlush = command({ options: {} }, async (ctx) => {
  const result = await withOperations(ctx, (ops) => ops.caches.flush(cliActor()));
  if (ctx.json) {
    ctx.out(JSON.stringify(result));
    return;
  }
  for (const { cache, listeners } of result.caches) ctx.out(`${cache.padEnd(9)} flushed  (${listeners} listening)`);
  if (result.caches.every(({ listeners }) => listeners === 0)) ctx.out('no running instance is listening on this Redis and prefix (GATEHOUSE_REDIS_PREFIX)');
});
