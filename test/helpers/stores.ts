import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { connectMongo } from '../../src/storage/mongo.ts';

/** The services scripts/test brought up (or the ones the caller gave). */
export function serviceUrls(): { mongodbUri: string; redisUrl: string } {
  const mongodbUri = process.env.MONGODB_URI;
  const redisUrl = process.env.REDIS_URL;
  if (mongodbUri === undefined || redisUrl === undefined) {
    throw new Error('MONGODB_URI and REDIS_URL must be set: run the tests with `npm test`');
  }
  return { mongodbUri, redisUrl };
}

/** A URI for a fresh, uniquely named database on the test MongoDB-wire server. */
export function freshDatabaseUri(label: string): string {
  const url = new URL(serviceUrls().mongodbUri);
  url.pathname = `/gh_${label.replace(/[^a-z0-9]/gi, '_')}_${randomBytes(4).toString('hex')}`;
  return url.toString();
}

export async function dropDatabase(uri: string): Promise<void> {
  const connection: Connection = await connectMongo({ uri, timeoutMs: 5000 });
  try {
    await connection.dropDatabase();
  } finally {
    await connection.close();
  }
}

export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}
