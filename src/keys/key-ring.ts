import { newestSigningKeyAt, nextStatusChange, type KeySet, type KeyStore, type RotationResult } from './key-store.ts';

/** How instances tell each other that the key set changed (Redis pub/sub when configured). */
export interface KeyChangeNotices {
  announce(version: number): Promise<void>;
  /** Resolves to a function that stops listening. */
  listen(onNotice: () => void): Promise<() => Promise<void>>;
}

export interface KeyRingPolicy {
  readonly publishDelayMs: number;
  readonly retentionMs: number;
  /** Rotate when the newest signing key is this old; 0 = never on its own. */
  readonly rotationIntervalMs: number;
  /** How often the version is polled, with or without notices. */
  readonly pollIntervalMs: number;
}

export interface KeyRingDeps<P> {
  readonly store: KeyStore;
  /**
   * Builds a complete, ready-to-serve instance (for the server: a Provider with its
   * configuration and event listeners) from a key set as it stands at `now`.
   */
  readonly build: (keySet: KeySet, now: Date) => P;
  /** Called after every swap, e.g. to hand the new cookie keys to the Koa app. */
  readonly onSwap?: (built: P, keySet: KeySet, now: Date) => void;
  readonly policy: KeyRingPolicy;
  readonly notices?: KeyChangeNotices | undefined;
  readonly now?: () => Date;
  /** Jumps of a moved clock (src/clock.ts `onJump`): the next status change is re-checked at once. */
  readonly onClockJump?: (listener: () => Promise<void>) => () => void;
  /** Background failures (a poll while MongoDB is away); the ring keeps serving what it has. */
  readonly onError?: (error: unknown, during: string) => void;
  /** A rotation this instance made on its own because the interval was due (for the audit trail). */
  readonly onScheduledRotation?: (result: RotationResult) => void;
}

export interface KeyRing<P> {
  /** Loads (or creates) the key set, builds the first instance, starts timers and listening. */
  start(): Promise<void>;
  /** The instance to serve this request with. */
  current(): P;
  keySet(): KeySet;
  /** Reloads if the stored version differs from the one being served. */
  refresh(): Promise<void>;
  /** Rotates now, announces the change to other instances, and serves the new set. */
  rotate(): Promise<RotationResult>;
  /** Builds the instance again from the same key set: something else it is built from changed (the claim scopes). */
  rebuild(): Promise<void>;
  close(): Promise<void>;
}

/** setTimeout's ceiling; a longer wait simply wakes up early and re-arms. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Node timers may fire a millisecond before the wall clock reaches the moment. */
const TIMER_SLACK_MS = 5;

/**
 * Holds the instance built from the current key set and rebuilds it whenever the set changes:
 * on a notice from another instance, when polling sees a new version, and at the moments a
 * key changes status by time alone (a next key activating, a retired key reaching removeAt).
 * Work is serialised, so swaps happen in order and never concurrently.
 */
export function createKeyRing<P>(deps: KeyRingDeps<P>): KeyRing<P> {
  const { store, build, onSwap, policy, notices, now = () => new Date(), onError = () => {}, onScheduledRotation, onClockJump } = deps;
  let served: { keySet: KeySet; built: P } | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let statusTimer: NodeJS.Timeout | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let stopListening: (() => Promise<void>) | undefined;
  let stopHearingJumps: (() => void) | undefined;
  /** When the served instance was built (statuses are as of then). */
  let installedAt = new Date(0);
  let closed = false;

  function serial<T>(task: () => Promise<T>): Promise<T> {
    const run = queue.then(task);
    queue = run.catch(() => {});
    return run;
  }

  function serving(): { keySet: KeySet; built: P } {
    if (served === undefined) throw new Error('key ring not started');
    return served;
  }

  function install(keySet: KeySet): void {
    const at = now();
    installedAt = at;
    const built = build(keySet, at);
    served = { keySet, built };
    onSwap?.(built, keySet, at);
    armStatusTimer(keySet, at);
  }

  function armStatusTimer(keySet: KeySet, at: Date): void {
    clearTimeout(statusTimer);
    const moment = nextStatusChange(keySet, at);
    if (moment === undefined || closed) return;
    const delay = Math.min(moment.getTime() - at.getTime() + TIMER_SLACK_MS, MAX_TIMER_MS);
    statusTimer = setTimeout(() => {
      serial(onStatusChange).catch((error: unknown) => onError(error, 'key status change'));
    }, delay);
    statusTimer.unref();
  }

  async function onStatusChange(): Promise<void> {
    if (closed) return;
    const { keySet } = serving();
    const at = now();
    // A timer fires when the moment came; a clock jump only asks whether it did.
    const moment = nextStatusChange(keySet, installedAt);
    if (moment === undefined || moment > at) return armStatusTimer(keySet, at);
    const hasRemoved = [...keySet.signingKeys, ...keySet.cookieKeys].some((key) => key.removeAt !== null && key.removeAt <= at);
    // Removed keys are left out of the build anyway; pruning just keeps the document small.
    install(hasRemoved ? await store.prune() : keySet);
  }

  async function reloadIfChanged(): Promise<void> {
    if (closed) return;
    const version = await store.version();
    if (version === undefined || version === serving().keySet.version) return;
    const keySet = await store.load();
    if (keySet !== undefined) install(keySet);
  }

  async function rotateNow(olderThanMs?: number): Promise<RotationResult> {
    const result = await store.rotate({
      publishDelayMs: policy.publishDelayMs,
      retentionMs: policy.retentionMs,
      ...(olderThanMs === undefined ? {} : { olderThanMs }),
    });
    if (result.rotated && notices !== undefined) {
      await notices.announce(result.keySet.version).catch((error: unknown) => onError(error, 'announcing a key change'));
    }
    if (result.keySet.version !== serving().keySet.version) install(result.keySet);
    if (result.rotated && olderThanMs !== undefined) onScheduledRotation?.(result);
    return result;
  }

  function rotationDue(): boolean {
    if (policy.rotationIntervalMs <= 0) return false;
    return now().getTime() - newestSigningKeyAt(serving().keySet).getTime() >= policy.rotationIntervalMs;
  }

  async function onPoll(): Promise<void> {
    await reloadIfChanged();
    // Re-checked inside the store under compare-and-set, so racing instances rotate once.
    if (!closed && rotationDue()) await rotateNow(policy.rotationIntervalMs);
  }

  return {
    async start() {
      install(await store.loadOrCreate());
      pollTimer = setInterval(() => {
        serial(onPoll).catch((error: unknown) => onError(error, 'key set poll'));
      }, policy.pollIntervalMs);
      pollTimer.unref();
      stopHearingJumps = onClockJump?.(async () => {
        await serial(onStatusChange).catch((error: unknown) => onError(error, 'key status change'));
        await serial(onPoll).catch((error: unknown) => onError(error, 'key set poll'));
      });
      if (notices !== undefined) {
        stopListening = await notices.listen(() => {
          serial(reloadIfChanged).catch((error: unknown) => onError(error, 'key change notice'));
        });
      }
      // A due rotation that fails here is retried at the next poll; it must not stop startup.
      if (rotationDue()) {
        await serial(() => rotateNow(policy.rotationIntervalMs)).catch((error: unknown) => onError(error, 'scheduled key rotation'));
      }
    },
    current: () => serving().built,
    keySet: () => serving().keySet,
    refresh: () => serial(reloadIfChanged),
    rotate: () => serial(() => rotateNow()),
    rebuild: () =>
      serial(async () => {
        if (!closed && served !== undefined) install(served.keySet);
      }),
    async close() {
      closed = true;
      stopHearingJumps?.();
      clearTimeout(statusTimer);
      clearInterval(pollTimer);
      await stopListening?.();
      await queue;
    },
  };
}
