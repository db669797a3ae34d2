import net from 'node:net';

export interface TcpProxyOptions {
  /** Whether a new connection is let through (refused: closed at once, no upstream connection). */
  readonly accept?: () => boolean;
  /** Small writes leave at once both ways (no Nagle delay behind an unacknowledged one), as Redis's own sockets. */
  readonly noDelay?: boolean;
}

export interface TcpProxy {
  /** `uri` with its host and port replaced by the proxy's. */
  readonly uri: string;
  /** Cuts every connection through the proxy. */
  cutAll(): void;
  /** Cuts every connection and stops listening. */
  close(): Promise<void>;
}

/**
 * The TCP proxy under the test links in front of a store (faulty-link.ts, held-notices.ts): each
 * client connection gets its own upstream connection to `uri`'s host, and `connection` decides
 * what passes between them (it installs both sockets' `data` handlers). When either side closes
 * or fails, both are closed.
 */
export async function tcpProxy(uri: string, connection: (client: net.Socket, upstream: net.Socket) => void, { accept = () => true, noDelay = false }: TcpProxyOptions = {}): Promise<TcpProxy> {
  const target = new URL(uri);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!accept()) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port), target.hostname);
    if (noDelay) {
      client.setNoDelay(true);
      upstream.setNoDelay(true);
    }
    sockets.add(client).add(upstream);
    connection(client, upstream);
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
  const cutAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    uri: proxied.toString(),
    cutAll,
    async close() {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
