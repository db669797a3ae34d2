import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';

/**
 * Called once per command a connection sends to its store (not for commands run inside a Redis
 * script); `target` is the collection (MongoDB) or the first key (Redis), when there is one.
 * `write` (Redis) is the same object for the commands that go to the server in one write — a
 * pipeline, which ioredis's auto-pipelining makes of the commands sent in the same tick.
 */
export type StoreCommandListener = (store: 'mongodb' | 'redis', command: string, target: string | undefined, write?: object) => void;

/**
 * Reports every command the mongoose connection sends. The connection must have been opened
 * with `monitorCommands: true` (connectMongo's `watchCommands`): the driver decides per
 * connection at creation whether to emit command events.
 */
export function watchMongoCommands(connection: Connection, listener: StoreCommandListener): () => void {
  const client = connection.getClient();
  const onStarted = (event: { commandName: string; command: Record<string, unknown> }) => {
    const target = event.command[event.commandName];
    listener('mongodb', event.commandName, typeof target === 'string' ? target : undefined);
  };
  client.on('commandStarted', onStarted);
  return () => void client.off('commandStarted', onStarted);
}

/**
 * Reports every command this ioredis client sends (one round trip each, a script counting as
 * one). Duplicated clients (subscribers) are not included.
 */
export function watchRedisCommands(redis: Redis, listener: StoreCommandListener): () => void {
  const send = redis.sendCommand;
  const watched: Redis['sendCommand'] = function (this: Redis, command, stream) {
    const key = command.name === 'evalsha' || command.name === 'eval' ? command.args[2] : command.args[0];
    // A pipeline hands every command of it the same stream object; a command sent alone, none.
    listener('redis', command.name, key === undefined ? undefined : String(key), typeof stream === 'object' && stream !== null ? stream : undefined);
    return send.call(this, command, stream);
  };
  redis.sendCommand = watched;
  return () => {
    if (redis.sendCommand === watched) redis.sendCommand = send;
  };
}
