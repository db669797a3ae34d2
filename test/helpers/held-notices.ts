import type net from 'node:net';
import { tcpProxy, type TcpProxy } from './tcp-proxy.ts';

export interface HeldNotices {
  /** For the publishing instance's connection. */
  readonly writerUri: string;
  /** For the listening instance's subscriber connection. */
  readonly listenerUri: string;
  /**
   * Arms the links once: the writer's next PUBLISH (the next one to `channel`, when given) is
   * answered at once, but the message it sends the listener is held back until Redis answers a
   * later command of the writer.
   */
  holdNextNotice(channel?: string): void;
  close(): Promise<void>;
}

/** How a published message starts on a subscriber's connection (RESP3 push, RESP2 array). */
const MESSAGE = Buffer.from('message\r\n');
const PUBLISH = Buffer.from('publish\r\n');

/**
 * Two TCP proxies in front of one Redis that stretch, to its widest, a window Redis leaves open:
 * it answers a PUBLISH and writes the message to each subscriber in the same turn of its event
 * loop, the answer first, so the publisher may go on (and its client reach another instance)
 * before the subscriber's copy has left Redis — seen in CI on a loaded machine. What Redis does
 * guarantee is kept: it finishes that turn's writes before it reads another command, so the
 * listener has the message before the writer gets the answer to any later command.
 */
export async function heldNotices(redisUrl: string): Promise<HeldNotices> {
  /** armed: waiting for the writer's PUBLISH; answered: its answer went, the message is held. */
  let state: 'off' | 'armed' | 'published' | 'answered' = 'off';
  /** The channel whose PUBLISH is held (any, when undefined). */
  let heldChannel: Buffer | undefined;
  const held: Array<{ to: net.Socket; chunk: Buffer }> = [];
  let messageHeld: () => void = () => {};
  let heldMessage = new Promise<void>((resolve) => (messageHeld = resolve));
  /** Replies to the writer that wait for the listener's message to go first. */
  let writerReplies = Promise.resolve();

  const release = () => {
    state = 'off';
    for (const { to, chunk } of held.splice(0)) if (!to.destroyed) to.write(chunk);
  };

  /** A proxy that sees each request chunk (`onRequest`) and decides where each reply chunk goes (`onReply`). */
  const proxy = (onRequest: (chunk: Buffer) => void, onReply: (to: net.Socket, chunk: Buffer) => void): Promise<TcpProxy> =>
    tcpProxy(
      redisUrl,
      (client, upstream) => {
        client.on('data', (chunk) => {
          onRequest(chunk);
          upstream.write(chunk);
        });
        upstream.on('data', (chunk) => onReply(client, chunk));
      },
      { noDelay: true },
    );

  const writer = await proxy(
    (chunk) => {
      if (state === 'armed' && chunk.includes(PUBLISH) && (heldChannel === undefined || chunk.includes(heldChannel))) state = 'published';
    },
    (to, chunk) => {
      if (state === 'published') {
        // The PUBLISH's answer: Redis writes it before the subscribers' copies.
        state = 'answered';
        to.write(chunk);
        return;
      }
      if (state === 'answered') {
        // Any later answer: Redis wrote the listener's copy before it read this command.
        writerReplies = writerReplies.then(async () => {
          await heldMessage;
          release();
          to.write(chunk);
        });
        return;
      }
      void writerReplies.then(() => to.write(chunk));
    },
  );
  const listener = await proxy(
    () => {},
    (to, chunk) => {
      // Armed, the PUBLISH not sent yet: what reaches the listener meanwhile (earlier notices) passes.
      if (state === 'off' || state === 'armed') {
        to.write(chunk);
        return;
      }
      held.push({ to, chunk });
      if (chunk.includes(MESSAGE)) messageHeld();
    },
  );
  return {
    writerUri: writer.uri,
    listenerUri: listener.uri,
    holdNextNotice(channel) {
      state = 'armed';
      heldChannel = channel === undefined ? undefined : Buffer.from(`${channel}\r\n`);
      heldMessage = new Promise<void>((resolve) => (messageHeld = resolve));
    },
    async close() {
      release();
      messageHeld();
      await Promise.all([writer.close(), listener.close()]);
    },
  };
}
