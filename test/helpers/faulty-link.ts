import { tcpProxy } from './tcp-proxy.ts';

export interface FaultyLink {
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
  /**
   * Arms the proxy once: the next request containing every one of `markers` reaches the server,
   * but its reply is held back (a store that stopped answering) until `resume()`. `stalled`
   * resolves once such a request has gone through.
   */
  stallNextReply(...markers: string[]): { readonly stalled: Promise<void>; resume(): void };
  /** Cuts every connection through the proxy and refuses new ones (the server unreachable from this side only), until mend(). */
  sever(): void;
  mend(): void;
  /** Silently discards every byte both ways while connections stay open (a network partition), until unpartition(). */
  partition(): void;
  unpartition(): void;
  close(): Promise<void>;
}

/** A TCP proxy in front of the MongoDB-wire server (or Redis) that can lose or hold back one reply, or cut every connection, on purpose (real network faults for the driver). */
export async function faultyLink(uri: string): Promise<FaultyLink> {
  let armed: Buffer[] | undefined;
  let dropped = false;
  let stallArmed: { markers: Buffer[]; engaged: () => void; resumed: Promise<void> } | undefined;
  let severed = false;
  let partitioned = false;
  const proxy = await tcpProxy(
    uri,
    (client, upstream) => {
      let cutOnReply = false;
      /** While set, replies wait for it (in order). */
      let holdReplies: Promise<void> | undefined;
      client.on('data', (chunk) => {
        if (partitioned) return;
        if (armed !== undefined && armed.every((marker) => chunk.includes(marker))) {
          armed = undefined;
          cutOnReply = true;
        }
        if (stallArmed !== undefined && stallArmed.markers.every((marker) => chunk.includes(marker))) {
          const { engaged, resumed } = stallArmed;
          stallArmed = undefined;
          holdReplies = resumed;
          engaged();
        }
        upstream.write(chunk);
      });
      upstream.on('data', (chunk) => {
        if (partitioned) return;
        if (holdReplies !== undefined) {
          void holdReplies.then(() => client.write(chunk));
          return;
        }
        if (cutOnReply) {
          cutOnReply = false;
          dropped = true;
          client.destroy();
          upstream.destroy();
          return;
        }
        client.write(chunk);
      });
    },
    { accept: () => !severed },
  );
  return {
    uri: proxy.uri,
    dropNextReply: (...markers) => {
      armed = markers.map((marker) => Buffer.from(marker));
    },
    get dropped() {
      return dropped;
    },
    stallNextReply: (...markers) => {
      let engaged!: () => void;
      let resume!: () => void;
      const stalled = new Promise<void>((resolve) => (engaged = resolve));
      const resumed = new Promise<void>((resolve) => (resume = resolve));
      stallArmed = { markers: markers.map((marker) => Buffer.from(marker)), engaged, resumed };
      return { stalled, resume };
    },
    sever() {
      severed = true;
      proxy.cutAll();
    },
    mend() {
      severed = false;
    },
    partition() {
      partitioned = true;
    },
    unpartition() {
      partitioned = false;
    },
    close: () => proxy.close(),
  };
}
