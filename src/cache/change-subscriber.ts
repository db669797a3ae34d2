import type { Redis } from 'ioredis';
import { clockTimer, systemClock, type Clock, type ClockTimer } from '../clock.ts';

export interface SubscriberLogger {
  warn(obj: object, msg: string): void;
}

/** The name the connection gives itself (CLIENT SETNAME): what operators see in CLIENT LIST. */
export const SUBSCRIBER_CONNECTION_NAME = 'gatehouse:subscriber';

/**
 * How often the connection is checked to still answer (PING), and how many beats in a row may
 * find the last PING unanswered before the connection counts as silent. A connection that closes
 * (Redis stopped, a reset) suspends its listeners at once; one that went silent without closing
 * (a network partition) is dropped when a PING stayed unanswered through MISSED_BEATS later beats
 * — 10 to 15 s. One slow answer (a busy Redis, this process's event loop stalled) is no loss:
 * dropping would empty every cache of the instance at once and send all its reads to the store.
 * One heartbeat per instance, whatever the number of channels (docs/PERFORMANCE.md, *Idle CPU*).
 */
const HEARTBEAT_MS = 5_000;
const MISSED_BEATS = 2;

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
  /** Heartbeat interval. */
  readonly heartbeatMs?: number;
  /** The heartbeat's clock (tests move it instead of waiting). */
  readonly clock?: Clock;
}

type State = 'new' | 'live' | 'suspended';

interface Entry {
  readonly listener: ChannelListener;
  state: State;
}

export function createChangeSubscriber({ redis, logger, heartbeatMs = HEARTBEAT_MS, clock = systemClock }: ChangeSubscriberDeps): ChangeSubscriber {
  const channels = new Map<string, Set<Entry>>();
  let connection: Redis | undefined;
  /** The first connection attempt (listen waits for it; later ones happen in the background). */
  let connecting: Promise<void> | undefined;
  /** Counts the connection's closes: an answer from before a close says nothing about after. */
  let generation = 0;
  let heartbeat: ClockTimer | undefined;
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
    /** The PING not answered yet (its connection generation), and how many beats found it so. */
    let pending: { readonly generation: number; missed: number } | undefined;
    const beat = (): void => {
      heartbeat = clockTimer(clock, heartbeatMs, beat);
      // Decided after this turn's I/O: an answer that arrived while the event loop was stalled
      // is read first (timers run before I/O in each turn of the loop).
      setImmediate(() => {
        if (closed || subscriber.status !== 'ready') return;
        if (pending !== undefined && pending.generation === generation) {
          pending.missed += 1;
          if (pending.missed < MISSED_BEATS) return;
          pending = undefined;
          generation += 1;
          suspendAll();
          subscriber.disconnect(true);
          return;
        }
        const sent = { generation, missed: 0 };
        pending = sent;
        subscriber.ping().then(
          () => {
            if (pending === sent) pending = undefined;
          },
          () => {}, // Closed meanwhile: the close suspended the listeners.
        );
      });
    };
    heartbeat = clockTimer(clock, heartbeatMs, beat);
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
      heartbeat?.cancel();
      channels.clear();
      const subscriber = connection;
      connection = undefined;
      if (subscriber !== undefined) await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
