import { userInfo } from 'node:os';
import { createChangeChannel } from '../cache/change-channel.ts';
import { clientModel } from '../clients/model.ts';
import { createClientRepository } from '../clients/repository.ts';
import { createSecretBox } from '../crypto/secret-box.ts';
import { createLogger } from '../observability/logger.ts';
import type { OperationContext } from '../operations/context.ts';
import { userChangeAnnouncer, userChangesChannel } from '../oidc/account-cache.ts';
import { clientChangesChannel, oidcRecordChangesChannel } from '../oidc/storage.ts';
import { createServices, type GatehouseServices } from '../services.ts';
import { createAdapterFactory } from '../storage/oidc/adapter-factory.ts';
import { createRecordCache } from '../storage/oidc/record-cache.ts';
import { connectRedis, RedisConnectError } from '../storage/redis.ts';
import { CliError, type CliContext } from './context.ts';

/** The CLI's principal in audit events: the operating-system user who ran the command. */
export function cliActor(): OperationContext {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (some containers): still audited, as "unknown".
  }
  return { actor: { type: 'cli', id: name } };
}

/**
 * The same services the server runs, for one command: clients and users (changes announced to
 * running servers over Redis when configured), APIs, roles, audit, revocation.
 */
export async function withServices<T>(ctx: CliContext, run: (services: GatehouseServices) => Promise<T>): Promise<T> {
  const { config, mongo } = ctx;
  const logger = createLogger('silent');
  const redis =
    config.redisUrl === undefined
      ? undefined
      : await connectRedis({ url: config.redisUrl.reveal(), timeoutMs: config.redisTimeoutMs }).catch((error: unknown) => {
          throw new CliError(`REDIS_URL: ${error instanceof RedisConnectError ? error.message : `cannot connect to Redis (${String(error)})`}`);
        });
  const invalidation = redis === undefined ? undefined : createChangeChannel({ redis, channel: clientChangesChannel(config.redisPrefix), logger });
  const userChanges = redis === undefined ? undefined : createChangeChannel({ redis, channel: userChangesChannel(config.redisPrefix), logger });
  const clients = createClientRepository({
    model: clientModel(mongo),
    box: createSecretBox(config.secret.reveal(), 'client-secrets'),
    onChange: async (clientId) => invalidation?.publish(clientId),
  });
  const recordChanges = redis === undefined ? undefined : createChangeChannel({ redis, channel: oidcRecordChangesChannel(config.redisPrefix), logger });
  // Caches nothing; announces the sessions and grants a command revokes to the running servers.
  const records = createRecordCache({ ttlSeconds: 0, announce: recordChanges?.publish });
  const adapter = createAdapterFactory({ mongo, redis, redisPrefix: config.redisPrefix, reuseWindowSeconds: config.refreshReuseWindowSeconds, records });
  const { services, close } = await createServices({ config, mongo, redis, logger, clients, adapter, onUserChange: userChangeAnnouncer(userChanges) });
  try {
    return await run(services);
  } finally {
    await close();
    if (redis !== undefined) await redis.quit().catch(() => redis.disconnect());
  }
}

/** Reads a secret from standard input (never from argv, which other users can see). */
export async function readStdinSecret(what: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const value = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (value === '') throw new CliError(`${what}: nothing on standard input (pipe it in: printf '%s' "$PASSWORD" | gatehouse ...)`, 2);
  return value;
}
