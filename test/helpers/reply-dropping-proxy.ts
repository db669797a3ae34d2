import net from 'node:net';

export interface ReplyDroppingProxy {
  /** `uri` with its host and port replaced by the proxy's. */
  readonly uri: string;
  /**
   * Arms the proxy once: the next request whose bytes contain every one of `markers` is passed
   * on to the server, and when the server's reply comes back the client's connection is cut
   * instead — the write committed, its reply lost (a real network error for the driver).
   */
  dropNextReply(...markers: string[]): void;
  /** Whether an armed drop has happened. */
  readonly dropped: boolean;
  close(): Promise<void>;
}

/** A TCP proxy in front of the MongoDB-wire server that can lose one reply on purpose. */
export async function replyDroppingProxy(uri: string): Promise<ReplyDroppingProxy> {
  const target = new URL(uri);
  let armed: Buffer[] | undefined;
  let dropped = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let cutOnReply = false;
    client.on('data', (chunk) => {
      if (armed !== undefined && armed.every((marker) => chunk.includes(marker))) {
        armed = undefined;
        cutOnReply = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (cutOnReply) {
        cutOnReply = false;
        dropped = true;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(uri);
  proxied.host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    uri: proxied.toString(),
    dropNextReply: (...markers) => {
      armed = markers.map((marker) => Buffer.from(marker));
    },
    get dropped() {
      return dropped;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
