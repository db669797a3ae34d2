/**
 * A separate Gatehouse-side process for cross-process tests: it opens its own connections and
 * talks to the stores only through the real adapters and the clients repository.
 *
 *   node storage-child.ts <json command>
 *
 * Prints one JSON line with the result and exits. A command the parent starts in several
 * processes at once (test/helpers/child.ts runStorageChildrenTogether) says `ready` first and
 * waits for the parent's word on stdin.
 */
import type { AdapterPayload } from 'oidc-provider';
import { createClientRepository } from '../../src/clients/repository.ts';
import { clientModel } from '../../src/clients/model.ts';
import { createChangeChannel } from '../../src/cache/change-channel.ts';
import { createSecretBox } from '../../src/crypto/secret-box.ts';
import { clientChangesChannel } from '../../src/oidc/storage.ts';
import { createAdapterFactory } from '../../src/storage/oidc/adapter-factory.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { connectRedis } from '../../src/storage/redis.ts';

export type ChildCommand =
  | { op: 'upsert'; records: { model: string; id: string; payload: AdapterPayload; expiresIn?: number }[] }
  | { op: 'find'; records: { model: string; id: string }[] }
  | { op: 'consume'; model: string; id: string }
  /**
   * A refresh token's whole rotation as the server runs it (its scope, deferred successor); it
   * completes once `rotations` processes got past their consume (a barrier in MongoDB, not a clock).
   */
  | { op: 'rotate'; id: string; grantId: string; rotations: number }
  | { op: 'updateClient'; clientId: string; metadata: Record<string, unknown>; secret: string; webOrigins?: string[] };

export interface ChildEnv {
  readonly mongodbUri: string;
  readonly redisUrl?: string | undefined;
  readonly redisPrefix: string;
}

const { env, command, together } = JSON.parse(process.argv[2] ?? '{}') as { env: ChildEnv; command: ChildCommand; together?: boolean };
const mongo = await connectMongo({ uri: env.mongodbUri, timeoutMs: 5000 });
const redis = env.redisUrl === undefined ? undefined : await connectRedis({ url: env.redisUrl, timeoutMs: 5000 });
const adapter = createAdapterFactory({ mongo, redis, redisPrefix: env.redisPrefix, reuseWindowSeconds: 0 });

/** Connected: with `together`, says so and waits until the parent starts every process at once. */
async function started(): Promise<void> {
  if (together !== true) return;
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  process.stdin.pause();
}

let result: unknown;
switch (command.op) {
  case 'upsert':
    for (const record of command.records) await adapter(record.model).upsert(record.id, record.payload, record.expiresIn);
    result = 'ok';
    break;
  case 'find':
    result = await Promise.all(command.records.map(async (r) => (await adapter(r.model).find(r.id)) ?? null));
    break;
  case 'consume':
    await started();
    result = await adapter(command.model)
      .consume(command.id)
      .then(
        () => 'won',
        (error: { error?: string; message?: string }) => error.error ?? error.message,
      );
    break;
  case 'rotate': {
    const server = createAdapterFactory({ mongo, redis, redisPrefix: env.redisPrefix, reuseWindowSeconds: 0, deferRotationSuccessors: true });
    const barrier = mongo.db!.collection<{ _id: string; key: string }>('test_rotation_barrier');
    const outcome = (error: unknown) => (server.reusedGrant() === undefined ? ((error as { error?: string }).error ?? (error as Error).message) : 'reused');
    await started();
    result = await server.inRefreshGrant(command.id, async () => {
      const successor = `${command.id}-${process.pid}`;
      const claimed = await (async () => {
        await server('RefreshToken').find(command.id);
        await server('RefreshToken').consume(command.id);
        await server('RefreshToken').upsert(successor, { kind: 'RefreshToken', jti: successor, grantId: command.grantId, rotations: 1 } as AdapterPayload, 60);
      })().then(() => undefined, outcome);
      await barrier.insertOne({ _id: successor, key: command.id });
      while ((await barrier.countDocuments({ key: command.id })) < command.rotations) await new Promise((resolve) => setTimeout(resolve, 20));
      if (claimed !== undefined) return claimed;
      return server.completeRotation(command.id, successor).then(() => 'won', outcome);
    });
    break;
  }
  case 'updateClient': {
    const invalidation =
      redis === undefined ? undefined : createChangeChannel({ redis, channel: clientChangesChannel(env.redisPrefix), logger: { warn: () => {} } });
    const repository = createClientRepository({
      model: clientModel(mongo),
      box: createSecretBox(command.secret, 'client-secrets'),
      onChange: async (clientId) => invalidation?.publish(clientId),
    });
    result = (await repository.update(command.clientId, { metadata: command.metadata, ...(command.webOrigins === undefined ? {} : { webOrigins: command.webOrigins }) })) === undefined ? 'missing' : 'updated';
    break;
  }
}

process.stdout.write(`${JSON.stringify(result)}\n`);
await mongo.close();
await redis?.quit();
