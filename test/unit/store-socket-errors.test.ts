import { expect } from 'chai';
import mongoose from 'mongoose';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { normalizeError } from '../../src/errors/normalize.ts';
import { fromStoreCall, StoreUnavailableError, unavailableStore } from '../../src/errors/store-unavailable.ts';
import { createMongoAdapterFactory } from '../../src/storage/oidc/mongo-adapter.ts';

/**
 * The error Node raises when a socket whose peer has sent FIN is written to: a plain Error with
 * `code: 'EPIPE'`, produced here by a real socket (its message and code are Node's own).
 */
async function writeAfterPeerEnded(): Promise<NodeJS.ErrnoException> {
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => socket.once('end', resolve));
    const failed = new Promise<NodeJS.ErrnoException>((resolve) => socket.once('error', resolve));
    socket.write('ping');
    const error = await failed;
    socket.destroy();
    return error;
  } finally {
    server.close();
  }
}

/** The error with the stack it had in the log: thrown from inside a driver (frames as logged by a production build). */
function fromInside(error: NodeJS.ErrnoException, frames: string[]): NodeJS.ErrnoException {
  error.stack = [`Error: ${error.message}`, ...frames.map((frame) => `    at ${frame}`)].join('\n');
  return error;
}

/**
 * Logged by a production build (dist/main.js) at /auth while FerretDB stopped under a small
 * load: the driver wrote a command to a pooled connection FerretDB had just closed. The driver
 * awaits the socket's 'drain' and rethrows the socket's own error unwrapped, so no
 * MongoNetworkError names the store; it answered 500 server_error.
 */
const MONGODB_WRITE_FRAMES = [
  'genericNodeError (node:internal/errors:986:15)',
  'wrappedFn (node:internal/errors:540:14)',
  'Socket.writeAfterFIN [as write] (node:net:795:14)',
  'Connection.writeCommand (/srv/gatehouse/node_modules/mongodb/lib/cmap/connection.js:408:29)',
  'process.processTicksAndRejections (node:internal/process/task_queues:104:5)',
  'async Connection.sendWire (/srv/gatehouse/node_modules/mongodb/lib/cmap/connection.js:255:13)',
  'async Connection.sendCommand (/srv/gatehouse/node_modules/mongodb/lib/cmap/connection.js:307:24)',
  'async Connection.command (/srv/gatehouse/node_modules/mongodb/lib/cmap/connection.js:349:26)',
  'async Server.command (/srv/gatehouse/node_modules/mongodb/lib/sdam/server.js:208:29)',
  'async executeOperationWithRetries (/srv/gatehouse/node_modules/mongodb/lib/operations/execute_operation.js:217:32)',
];

describe('store outages: socket errors a driver lets through unwrapped', () => {
  it('reads a write to a MongoDB connection the server closed (EPIPE from inside the driver) as a MongoDB outage: 503, not 500', async () => {
    const raw = fromInside(await writeAfterPeerEnded(), MONGODB_WRITE_FRAMES);
    expect(raw.code).to.equal('EPIPE');
    expect(unavailableStore(raw)).to.equal('mongodb');
    const error = normalizeError(raw);
    expect(error).to.be.instanceOf(StoreUnavailableError);
    expect(error.status).to.equal(503);
    expect(error.retryAfterSeconds).to.equal(5);
  });

  it('finds the driver below a wrapper that keeps it as its cause', async () => {
    const raw = fromInside(await writeAfterPeerEnded(), MONGODB_WRITE_FRAMES);
    expect(unavailableStore(new Error('could not load the client', { cause: raw }))).to.equal('mongodb');
  });

  it('names Redis for the same failure inside ioredis', async () => {
    const raw = fromInside(await writeAfterPeerEnded(), [
      'Socket.writeAfterFIN [as write] (node:net:795:14)',
      'EventEmitter.sendCommand (/srv/gatehouse/node_modules/ioredis/built/Redis.js:406:32)',
    ]);
    expect(unavailableStore(raw)).to.equal('redis');
  });

  it('does not blame a store for a socket error raised elsewhere (an upstream provider, SMTP): it stays a 500', async () => {
    const raw = await writeAfterPeerEnded();
    expect(raw.code).to.equal('EPIPE');
    expect(unavailableStore(raw)).to.equal(undefined);
    expect(normalizeError(raw).status).to.equal(500);
  });

  it('does not read a driver error that is not about the connection as an outage', () => {
    const raw = Object.assign(new Error('Cannot read properties of undefined'), { name: 'TypeError' });
    raw.stack = ['TypeError: Cannot read properties of undefined', ...MONGODB_WRITE_FRAMES.slice(3).map((frame) => `    at ${frame}`)].join('\n');
    expect(unavailableStore(raw)).to.equal(undefined);
  });
});

/**
 * A server that speaks just enough of the MongoDB wire protocol for the real driver to connect
 * (every command is answered like `hello`) and closes the connection when a write command arrives:
 * a store that goes away in the middle of a write, at a point of the test's choosing.
 */
async function closesOnWrite(options: { resetAbove?: number } = {}): Promise<{ port: number; close: () => Promise<void> }> {
  const { BSON } = mongoose.mongo;
  const hello = { ismaster: true, isWritablePrimary: true, helloOk: true, maxWireVersion: 21, minWireVersion: 0, maxBsonObjectSize: 16777216, maxMessageSizeBytes: 48000000, maxWriteBatchSize: 100000, ok: 1 };
  const header = (length: number, responseTo: number, opCode: number) => {
    const buffer = Buffer.alloc(16);
    buffer.writeInt32LE(length, 0);
    buffer.writeInt32LE(0, 4);
    buffer.writeInt32LE(responseTo, 8);
    buffer.writeInt32LE(opCode, 12);
    return buffer;
  };
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let pending = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      if (options.resetAbove !== undefined && pending.length >= 4 && pending.readInt32LE(0) > options.resetAbove) {
        // A message too big for the socket buffers: stop reading, then reset the connection while
        // the driver still waits for its write to drain.
        socket.pause();
        setImmediate(() => socket.resetAndDestroy());
        return;
      }
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        const message = pending.subarray(0, pending.readInt32LE(0));
        pending = pending.subarray(message.length);
        const requestId = message.readInt32LE(4);
        const body = Buffer.from(BSON.serialize(hello));
        if (message.readInt32LE(12) === 2004) {
          // OP_QUERY (the first handshake): OP_REPLY with one document.
          const reply = Buffer.alloc(20);
          reply.writeInt32LE(1, 16);
          socket.write(Buffer.concat([header(16 + 20 + body.length, requestId, 1), reply, body]));
          continue;
        }
        // OP_MSG: flag bits, then a kind-0 section holding the command.
        const command = BSON.deserialize(message.subarray(21, 21 + message.readInt32LE(21)));
        if ('insert' in command || 'update' in command || 'delete' in command) {
          socket.destroy();
          return;
        }
        socket.write(Buffer.concat([header(16 + 5 + body.length, requestId, 2013), Buffer.alloc(5), body]));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('store outages: driver errors that carry the network error inside', () => {
  it('reads a bulk write whose connection closed (MongoBulkWriteError around a MongoNetworkError, from the real driver) as a MongoDB outage', async () => {
    const server = await closesOnWrite();
    const client = new mongoose.mongo.MongoClient(`mongodb://127.0.0.1:${server.port}/?directConnection=true&serverSelectionTimeoutMS=2000&retryWrites=false`);
    try {
      await client.connect();
      const raw = await client.db('outage').collection<{ _id: string }>('sessions').bulkWrite([{ insertOne: { document: { _id: 'x' } } }]).then(
        () => expect.fail('the write cannot succeed'),
        (error: unknown) => error,
      );
      expect((raw as Error).name).to.equal('MongoBulkWriteError');
      expect(unavailableStore(raw)).to.equal('mongodb');
      expect(normalizeError(raw).status).to.equal(503);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

/**
 * A socket failure Node raises in its own I/O callback (`read ECONNRESET` at TCP.onStreamRead)
 * carries no frame of the driver that was waiting on the socket, so its stack cannot name the
 * store. The MongoDB driver rethrows it unwrapped when the connection is reset while a large
 * write waits for 'drain'. Where the call is Gatehouse's own (the OIDC adapters' operations), the
 * store it called is known, and that is the signal.
 */
describe('store outages: a socket failure from a call to a known store', () => {
  it('the MongoDB adapter answers a connection reset during a large write as a MongoDB outage (the raw error has no driver frame)', async () => {
    const server = await closesOnWrite({ resetAbove: 1_000_000 });
    const connection = await mongoose.createConnection(`mongodb://127.0.0.1:${server.port}/outage?directConnection=true&serverSelectionTimeoutMS=2000&retryWrites=false`, { autoIndex: false, autoCreate: false, bufferCommands: false }).asPromise();
    try {
      const grants = createMongoAdapterFactory({ connection, reuseWindowSeconds: 0 })('Grant');
      const failed = await grants.upsert('grant-1', { jti: 'grant-1', kind: 'Grant', blob: 'x'.repeat(8_000_000) } as never, 600).then(
        () => expect.fail('the write cannot succeed'),
        (error: unknown) => error,
      );
      expect(failed).to.be.instanceOf(StoreUnavailableError);
      expect((failed as StoreUnavailableError).store).to.equal('mongodb');
      const raw = (failed as StoreUnavailableError).cause as NodeJS.ErrnoException;
      expect(raw.code).to.be.oneOf(['ECONNRESET', 'EPIPE']);
      expect(raw.stack).not.to.match(/node_modules[\\/]mongodb/);
      // Outside such a call the same error names no store (it stays a 500 there, see above).
      expect(unavailableStore(raw)).to.equal(undefined);
      expect(normalizeError(failed).status).to.equal(503);
    } finally {
      await connection.close();
      await server.close();
    }
  });

  it("fromStoreCall: a bare socket failure is the called store's; an error naming its store keeps it; anything else is left alone", async () => {
    const raw = await writeAfterPeerEnded();
    expect((fromStoreCall('redis', raw) as StoreUnavailableError).store).to.equal('redis');
    expect((fromStoreCall('mongodb', new Error('loading failed', { cause: raw })) as StoreUnavailableError).store).to.equal('mongodb');
    const named = new Error('Connection is closed.');
    expect((fromStoreCall('mongodb', named) as StoreUnavailableError).store).to.equal('redis');
    const outage = new StoreUnavailableError('redis');
    expect(fromStoreCall('mongodb', outage)).to.equal(outage);
    const bug = new TypeError('Cannot read properties of undefined');
    expect(fromStoreCall('mongodb', bug)).to.equal(bug);
  });
});
