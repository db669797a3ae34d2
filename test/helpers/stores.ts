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

/**
 * Databases deployments gave back, emptied (recycleDatabase). A fresh database costs every index
 * Gatehouse creates at startup — seconds of DDL per deployment on FerretDB's PostgreSQL backend —
 * while an emptied one keeps them and holds no documents. Only this process hands them out
 * (mocha runs one file at a time), and only once given back.
 */
const emptied: string[] = [];

/** A database nobody else uses and that holds no documents: an emptied one when there is one, else a fresh one. */
export function emptyDatabaseUri(label: string): string {
  const name = emptied.pop();
  if (name === undefined) return freshDatabaseUri(label);
  const url = new URL(serviceUrls().mongodbUri);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Gives a database back for another deployment: every document deleted, collections and indexes
 * kept. Call it only once nothing writes there any more (every instance on it closed). A database
 * that cannot be emptied is dropped instead, and not handed out again.
 */
export async function recycleDatabase(uri: string): Promise<void> {
  const connection: Connection = await connectMongo({ uri, timeoutMs: 5000 });
  try {
    await deleteEverything(connection);
    // Given back twice (a deployment dropped, used again and dropped again), it is still one
    // database: listed twice, two deployments would be handed the same one.
    const name = new URL(uri).pathname.slice(1);
    if (!emptied.includes(name)) emptied.push(name);
  } catch {
    await connection.dropDatabase();
  } finally {
    await connection.close();
  }
}

/**
 * Deletes every document of the database at `uri`, keeping it (collections and indexes) for the
 * caller: a deployment emptied in the middle of a test (a restore into an emptied database) and
 * used again. Only recycleDatabase gives a database back.
 */
export async function emptyDatabase(uri: string): Promise<void> {
  const connection: Connection = await connectMongo({ uri, timeoutMs: 5000 });
  try {
    await deleteEverything(connection);
  } finally {
    await connection.close();
  }
}

async function deleteEverything(connection: Connection): Promise<void> {
  const db = connection.db!;
  const collections = await db.listCollections({}, { nameOnly: true }).toArray();
  await Promise.all(collections.map(({ name }) => db.collection(name).deleteMany({})));
}

/**
 * Databases a describe block takes as its tests go (`take(label)` in a hook or test): each an
 * emptied one, or a fresh one with `fresh: true` for a test of what a first start does on a new
 * database (its indexes, several instances creating them at once). All are given back emptied
 * once the block's own after hooks have run (they may still close connections to them).
 */
export function databasesForSuite(): (label: string, options?: { fresh?: boolean }) => string {
  const taken: string[] = [];
  before(function () {
    // Appended now, so it runs after every after hook the block registered.
    this.test?.parent?.afterAll('give the databases back', async () => {
      for (const uri of taken.splice(0)) await recycleDatabase(uri);
    });
  });
  return (label, options = {}) => {
    const uri = options.fresh === true ? freshDatabaseUri(label) : emptyDatabaseUri(label);
    taken.push(uri);
    return uri;
  };
}

/** One database for a describe block (databasesForSuite), taken in its before hook; read `uri` inside the block. */
export function databaseForSuite(label: string, options: { fresh?: boolean } = {}): { readonly uri: string } {
  const take = databasesForSuite();
  let uri: string | undefined;
  before(() => {
    uri = take(label, options);
  });
  after(() => {
    uri = undefined;
  });
  return {
    get uri(): string {
      if (uri === undefined) throw new Error(`databaseForSuite: the ${label} database read outside the block that takes it`);
      return uri;
    },
  };
}

export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Inserts `count` documents made by `make(index)` straight into a collection, `batch` to a command. */
export async function insertMany(uri: string, collection: string, count: number, batch: number, make: (index: number) => object): Promise<void> {
  const mongo = await connectMongo({ uri, timeoutMs: 5000 });
  try {
    for (let start = 0; start < count; start += batch) {
      const documents = Array.from({ length: Math.min(batch, count - start) }, (_, offset) => make(start + offset));
      await mongo.collection(collection).insertMany(documents as never[], { ordered: false });
    }
  } finally {
    await mongo.close();
  }
}
