import { createSecretBox } from '../../crypto/secret-box.ts';
import { announceKeyChange } from '../../keys/change-notice.ts';
import { createKeyStore, keyStatus, type KeyStore } from '../../keys/key-store.ts';
import { keySetModel } from '../../keys/model.ts';
import { connectRedis } from '../../storage/redis.ts';
import { CliError, type CliContext } from '../context.ts';

function keyStore(ctx: CliContext): KeyStore {
  return createKeyStore({ model: keySetModel(ctx.mongo), box: createSecretBox(ctx.config.secret.reveal(), 'keys') });
}

export async function keysList(ctx: CliContext): Promise<void> {
  const store = keyStore(ctx);
  const set = await store.load();
  if (set === undefined) throw new CliError('no keys yet: start the server once to create them');
  const now = new Date();
  const rows = set.signingKeys.map((key) => ({
    kid: key.kid,
    alg: key.alg,
    status: keyStatus(key, now),
    created_at: key.createdAt.toISOString(),
    activate_at: key.activateAt.toISOString(),
    retire_at: key.retireAt?.toISOString() ?? null,
    remove_at: key.removeAt?.toISOString() ?? null,
  }));
  if (ctx.json) {
    ctx.out(JSON.stringify({ version: set.version, keys: rows }));
    return;
  }
  for (const row of rows) ctx.out(`${row.kid}  ${row.alg}  ${row.status}  since ${row.activate_at}`);
}

/**
 * Adds a new key generation that signs after GATEHOUSE_KEY_PUBLISH_DELAY. Running servers see
 * it at once through the Redis notice when REDIS_URL is set, otherwise at their next poll.
 */
export async function keysRotate(ctx: CliContext): Promise<void> {
  const store = keyStore(ctx);
  if ((await store.version()) === undefined) throw new CliError('no keys yet: start the server once to create them');
  const result = await store.rotate({ publishDelayMs: ctx.config.keys.publishDelayMs, retentionMs: ctx.config.keys.retentionMs });
  let announced = false;
  if (result.rotated && ctx.config.redisUrl !== undefined) {
    const redis = await connectRedis({ url: ctx.config.redisUrl.reveal(), timeoutMs: ctx.config.redisTimeoutMs }).catch(() => undefined);
    if (redis !== undefined) {
      announced = await announceKeyChange(redis, ctx.config.redisPrefix, result.keySet.version).then(
        () => true,
        () => false,
      );
      await redis.quit().catch(() => redis.disconnect());
    }
  }
  const keys = result.signingKeys.map((key) => ({ kid: key.kid, alg: key.alg, activate_at: key.activateAt.toISOString() }));
  const cookieActivateAt = result.cookieKeys[0]?.activateAt.toISOString() ?? null;
  if (ctx.json) {
    ctx.out(JSON.stringify({ rotated: result.rotated, version: result.keySet.version, keys, cookie_key_activate_at: cookieActivateAt, announced }));
    return;
  }
  if (!result.rotated) {
    ctx.out('another rotation happened at the same time; nothing added');
    return;
  }
  for (const key of keys) ctx.out(`${key.kid}  ${key.alg}  published now, signs from ${key.activate_at}`);
  if (ctx.config.redisUrl !== undefined && !announced) {
    ctx.out('Redis could not be reached: running servers pick the keys up at their next poll');
  }
}
