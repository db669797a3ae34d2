import type { Redis } from 'ioredis';

export interface SubscriberLogger {
  warn(obj: object, msg: string): void;
}

/** The name the connection gives itself (CLIENT SETNAME): what operators see in CLIENT LIST. */
export const SUBSCRIBER_CONNECTION_NAME = 'gatehouse:subscriber';

/**
 * How often the connection is checked to still answer (PING), and how long an answer may take:
 * a connection that went silent without closing is dropped within 5 s + 3 s. One heartbeat per
 * instance, whatever the number of channels (docs/PERFORMANCE.md, *Idle CPU*).
 */
const HEARTBEAT_MS = 5_000;
const HEARTBEAT_TIMEOUT_MS = 3_000;

/** What a listener of one channel is told. */
export interface ChannelListener {
  /** A message on the channel. */
  onMessage(message: string): void;
  /** The connection is back and subscribed again (messages may have been missed meanwhile). */
  onResync(): void;
  /** The connection broke or stopped answering: messages may be missed until `onResync`. */
  onSuspend(): void;
}

/**
 * One Redis connection in subscribe mode for every change channel of this process (a subscribed
 * connection cannot run other commands, so it is separate from the commands' connection). It is
 * opened by the first `listen` (a CLI command, which listens to nothing, opens none).
 */
export interface ChangeSubscriber {
  /**
   * Listens on `channel`. Resolves once Redis has answered its SUBSCRIBE (every later message
   * reaches the listener), or — when the connection is down — at once, after `onSuspend`; the
   * listener gets `onResync` once the connection is back and subscribed. Closing it unsubscribes
   * the channel unless another listener of it remains.
   */
  listen(channel: string, listener: ChannelListener): Promise<{ close(): Promise<void> }>;
  /** Closes the connection (the listeners left are told nothing more). */
  close(): Promise<void>;
}

export interface ChangeSubscriberDeps {
  /** The commands' connection; the subscriber is a duplicate of it. */
  readonly redis: Redis;
  readonly logger: SubscriberLogger;
  /** Heartbeat (tests shorten it). */
  readonly heartbeatMs?: number;
  readonly heartbeatTimeoutMs?: number;
}

type State = 'new' | 'live' | 'suspended';

interface Entry {
  readonly listener: ChannelListener;
  state: State;
}

export function createChangeSubscriber({ redis, logger, heartbeatMs = HEARTBEAT_MS, heartbeatTimeoutMs = HEARTBEAT_TIMEOUT_MS }: ChangeSubscriberDeps): ChangeSubscriber {
  const channels = new Map<string, Set<Entry>>();
  let connection: Redis | undefined;
  /** The first connection attempt (listen waits for it; later ones happen in the background). */
  let connecting: Promise<void> | undefined;
  /** Counts the connection's closes: an answer from before a close says nothing about after. */
  let generation = 0;
  let heartbeat: NodeJS.Timeout | undefined;
  let closed = false;

  /** A listener's callback that throws must not keep the message from the others. */
  function tell(channel: string, entry: Entry, what: keyof ChannelListener, message?: string): void {
    try {
      if (what === 'onMessage') entry.listener.onMessage(message!);
      else entry.listener[what]();
    } catch (error) {
      logger.warn({ err: error, channel }, 'change listener failed');
    }
  }

  function entries(): Array<[string, Entry]> {
    return [...channels].flatMap(([channel, set]) => [...set].map((entry): [string, Entry] => [channel, entry]));
  }

  function suspendAll(): void {
    const live = entries().filter(([, entry]) => entry.state === 'live');
    if (live.length === 0 || closed) return;
    logger.warn({ channels: [...new Set(live.map(([channel]) => channel))] }, 'change subscription lost; the caches it keeps current are cleared (records: read from the store) until it is back');
    for (const [channel, entry] of live) {
      entry.state = 'suspended';
      tell(channel, entry, 'onSuspend');
    }
  }

  /**
   * On every (re)connect: subscribes every channel (those added while it was down too). A
   * listener resumes only once that SUBSCRIBE is answered, i.e. once every later message
   * reaches it.
   */
  async function resubscribe(subscriber: Redis): Promise<void> {
    const at = generation;
    const covered = [...channels.keys()];
    if (covered.length === 0) return;
    try {
      await subscriber.subscribe(...covered);
    } catch {
      return; // Closed meanwhile: the next reconnect tries again.
    }
    if (closed || at !== generation || subscriber.status !== 'ready') return;
    const resumed: string[] = [];
    for (const channel of covered) {
      for (const entry of channels.get(channel) ?? []) {
        if (entry.state === 'live') continue;
        const wasSuspended = entry.state === 'suspended';
        entry.state = 'live';
        if (wasSuspended) {
          resumed.push(channel);
          tell(channel, entry, 'onResync');
        }
      }
    }
    if (resumed.length > 0) logger.warn({ channels: [...new Set(resumed)] }, 'change subscription back; caches start empty');
  }

  function open(): Redis {
    // Its own subscriptions are renewed by resubscribe() on each 'ready' (ioredis's would come
    // from before the loss only, and unannounced).
    const subscriber = redis.duplicate({ lazyConnect: true, enableOfflineQueue: false, autoResubscribe: false, connectionName: SUBSCRIBER_CONNECTION_NAME });
    subscriber.on('error', () => {});
    subscriber.on('close', () => {
      generation += 1;
      suspendAll();
    });
    subscriber.on('ready', () => void resubscribe(subscriber));
    subscriber.on('message', (channel: string, message: string) => {
      for (const entry of channels.get(channel) ?? []) tell(channel, entry, 'onMessage', message);
    });
    // A connection that stopped answering without closing (a network partition) is dropped:
    // its listeners are suspended at once and resume after the reconnect.
    let beating = false;
    heartbeat = setInterval(() => {
      if (beating || subscriber.status !== 'ready') return;
      beating = true;
      let timeout: NodeJS.Timeout | undefined;
      const silent = new Promise<'silent'>((resolve) => {
        timeout = setTimeout(() => resolve('silent'), heartbeatTimeoutMs);
      });
      void Promise.race([subscriber.ping().then(() => 'answered' as const, () => 'failed' as const), silent]).then((outcome) => {
        clearTimeout(timeout);
        beating = false;
        if (outcome === 'answered' || closed) return;
        generation += 1;
        suspendAll();
        subscriber.disconnect(true);
      });
    }, heartbeatMs);
    heartbeat.unref();
    // A first attempt that fails is retried in the background (the client's retry strategy).
    connecting = subscriber.connect().catch(() => {});
    connection = subscriber;
    return subscriber;
  }

  return {
    async listen(channel, listener) {
      if (closed) throw new Error('change subscriber closed');
      const entry: Entry = { listener, state: 'new' };
      const set = channels.get(channel) ?? new Set<Entry>();
      channels.set(channel, set);
      set.add(entry);
      const subscriber = connection ?? open();
      await connecting;
      if (entry.state === 'new') {
        const at = generation;
        const answered = subscriber.status === 'ready' && (await subscriber.subscribe(channel).then(() => true, () => false));
        // A resubscribe may have settled the entry meanwhile.
        if (entry.state === 'new') {
          if (answered && at === generation && subscriber.status === 'ready') {
            entry.state = 'live';
          } else {
            entry.state = 'suspended';
            tell(channel, entry, 'onSuspend');
          }
        }
      }
      let ended = false;
      return {
        async close() {
          if (ended) return;
          ended = true;
          set.delete(entry);
          if (set.size > 0 || channels.get(channel) !== set) return;
          channels.delete(channel);
          if (subscriber.status === 'ready') await subscriber.unsubscribe(channel).catch(() => {});
        },
      };
    },
    async close() {
      closed = true;
      clearInterval(heartbeat);
      channels.clear();
      const subscriber = connection;
      connection = undefined;
      if (subscriber !== undefined) await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
