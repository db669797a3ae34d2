import mongoose, { type Connection } from 'mongoose';

export interface MongoOptions {
  readonly uri: string;
  /** How long an operation may wait for a reachable server before it fails. */
  readonly timeoutMs: number;
  /** Emit the driver's command events (watchMongoCommands); off by default, it costs an event per command. */
  readonly watchCommands?: boolean;
}

/**
 * Opens a dedicated mongoose connection (never the global default one). Commands are not
 * buffered while disconnected: a request that needs MongoDB fails fast instead of hanging.
 */
export async function connectMongo({ uri, timeoutMs, watchCommands = false }: MongoOptions): Promise<Connection> {
  const connection = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: Math.max(timeoutMs * 6, 30_000),
    bufferCommands: false,
    autoIndex: false,
    autoCreate: false,
    monitorCommands: watchCommands,
  });
  await connection.asPromise();
  return connection;
}

export async function pingMongo(connection: Connection): Promise<void> {
  const db = connection.db;
  if (db === undefined) throw new Error('not connected');
  await db.command({ ping: 1 });
}
