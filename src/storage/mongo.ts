import mongoose, { type Connection } from 'mongoose';

export interface MongoOptions {
  readonly uri: string;
  /** How long an operation may wait for a reachable server before it fails. */
  readonly timeoutMs: number;
}

/**
 * Opens a dedicated mongoose connection (never the global default one). Commands are not
 * buffered while disconnected: a request that needs MongoDB fails fast instead of hanging.
 */
export async function connectMongo({ uri, timeoutMs }: MongoOptions): Promise<Connection> {
  const connection = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: Math.max(timeoutMs * 6, 30_000),
    bufferCommands: false,
    autoIndex: false,
    autoCreate: false,
  });
  await connection.asPromise();
  return connection;
}

export async function pingMongo(connection: Connection): Promise<void> {
  const db = connection.db;
  if (db === undefined) throw new Error('not connected');
  await db.command({ ping: 1 });
}
