import type { Redis } from 'ioredis';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { GRANT_MEMBER_MODELS, REFRESH_TOKEN } from './models.ts';
import { timed, type OperationHook } from './operation-hook.ts';
import { scripts } from './redis-scripts.ts';
import { epochSeconds, withinReuseWindow } from './reuse-window.ts';
import { alreadyConsumed, consumedTargetMissing } from './single-use.ts';
import type { UpsertOutcome } from './upsert-outcome.ts';

export interface RedisAdapterDeps {
  readonly redis: Redis;
  /** Prepended to every key, e.g. "gatehouse:"; tests use a unique one. */
  readonly prefix: string;
  readonly reuseWindowSeconds: number;
  readonly onOperation?: OperationHook | undefined;
  readonly now?: () => number;
}

export interface RedisKeys {
  record(model: string, id: string): string;
  grant(grantId: string): string;
  uid(model: string, uid: string): string;
  userCode(model: string, userCode: string): string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    record: (model, id) => `${prefix}${model}:${id}`,
    grant: (grantId) => `${prefix}grant:${grantId}`,
    uid: (model, uid) => `${prefix}uid:${model}:${uid}`,
    userCode: (model, userCode) => `${prefix}userCode:${model}:${userCode}`,
  };
}

/**
 * The Redis adapter for short-lived models: each record expires with its payload's TTL, and
 * grant/uid/userCode indexes are written in the same script, so they never disagree.
 */
export function createRedisAdapterFactory({
  redis,
  prefix,
  reuseWindowSeconds,
  onOperation,
  now = Date.now,
}: RedisAdapterDeps): (model: string) => Adapter {
  const keys = redisKeys(prefix);

  return (model) => {
    const op = <T>(operation: string, run: () => Promise<T>) => timed(onOperation, model, 'redis', operation, run);
    const reuseWindow = model === REFRESH_TOKEN ? reuseWindowSeconds : 0;

    async function read(id: string | null): Promise<AdapterPayload | undefined> {
      if (id === null) return undefined;
      const [payload, consumed, consumedAtMs] = await redis.hmget(keys.record(model, id), 'payload', 'consumed', 'consumedAtMs');
      if (payload === null || payload === undefined) return undefined;
      const parsed = JSON.parse(payload) as AdapterPayload;
      if (consumed != null && !withinReuseWindow(Number(consumedAtMs), reuseWindow, now())) {
        parsed.consumed = Number(consumed);
      }
      return parsed;
    }

    return {
      upsert: (id, payload, expiresIn) =>
        op('upsert', async () => {
          const record = keys.record(model, id);
          const { consumed, ...rest } = payload as AdapterPayload & { consumed?: unknown };
          const scriptKeys = [record];
          const fields: string[] = ['payload', JSON.stringify(rest), 'id', id];
          // Only tokens die with their grant. An Interaction also names a grant (the one it may
          // extend), but revoking that grant — signing its user out to switch account — must
          // not take the sign-in in progress with it (the MongoDB adapter behaves the same).
          const hasGrant = typeof rest.grantId === 'string' && GRANT_MEMBER_MODELS.includes(model);
          if (hasGrant) {
            const grant = keys.grant(rest.grantId as string);
            scriptKeys.push(grant);
            fields.push('grantKey', grant);
          }
          const indexKeys: string[] = [];
          if (typeof rest.uid === 'string') indexKeys.push(keys.uid(model, rest.uid));
          if (typeof rest.userCode === 'string') indexKeys.push(keys.userCode(model, rest.userCode));
          if (indexKeys.length > 0) fields.push('indexKeys', indexKeys.join(' '));
          if (typeof consumed === 'number') fields.push('consumed', String(consumed), 'consumedAtMs', String(consumed * 1000));
          const ttl = typeof expiresIn === 'number' ? Math.max(1, Math.ceil(expiresIn)) : 0;
          const created = (await scripts.upsert.run(redis, [...scriptKeys, ...indexKeys], [ttl, id, hasGrant ? '1' : '0', ...fields])) === 1;
          // oidc-provider ignores the value; the record cache announces only changes to records that existed.
          const outcome: UpsertOutcome = { created };
          return outcome as unknown as undefined;
        }),

      find: (id) => op('find', () => read(id)),

      findByUid: (uid) => op('findByUid', async () => read(await redis.get(keys.uid(model, uid)))),

      findByUserCode: (userCode) =>
        op('findByUserCode', async () => read(await redis.get(keys.userCode(model, userCode)))),

      consume: (id) =>
        op('consume', async () => {
          const at = now();
          const [outcome, first] = (await scripts.consume.run(redis, [keys.record(model, id)], [epochSeconds(at), at])) as [
            number,
            string?,
          ];
          if (outcome === 1) return;
          if (outcome === 0) throw consumedTargetMissing(model);
          if (withinReuseWindow(Number(first), reuseWindow, at)) return;
          throw alreadyConsumed(model);
        }),

      destroy: (id) =>
        op('destroy', async () => {
          await scripts.destroy.run(redis, [keys.record(model, id)], []);
        }),

      revokeByGrantId: (grantId) =>
        op('revokeByGrantId', async () => {
          await scripts.revokeGrant.run(redis, [keys.grant(grantId)], []);
        }),
    };
  };
}
