import { command } from '../command-line.ts';
import { cliActor, readOperations, withOperations } from '../services.ts';

export const keysList = command({ options: {} }, async (ctx) => {
  const listed = await readOperations(ctx, (ops) => ops.keys.list());
  if (ctx.json) ctx.out(JSON.stringify(listed));
  else for (const key of listed.keys) ctx.out(`${key.kid}  ${key.alg}  ${key.status}  since ${key.activate_at}`);
});

/**
 * Adds a new key generation that signs after GATEHOUSE_KEY_PUBLISH_DELAY (audited as
 * keys.rotated, as from the admin API). Running servers see it at once through the Redis
 * notice when REDIS_URL is set, otherwise at their next poll.
 */
export const keysRotate = command({ options: {} }, async (ctx) => {
  const result = await withOperations(ctx, (ops) => ops.keys.rotate(cliActor()));
  if (ctx.json) {
    ctx.out(JSON.stringify(result));
    return;
  }
  if (!result.rotated) {
    ctx.out('another rotation happened at the same time; nothing added');
    return;
  }
  for (const key of result.keys) ctx.out(`${key.kid}  ${key.alg}  published now, signs from ${key.activate_at}`);
  if (ctx.config.redisUrl !== undefined && !result.announced) {
    ctx.out('Redis could not be reached: running servers pick the keys up at their next poll');
  }
});
