import type { ChildProcess } from 'node:child_process';

/*
 * What a bench run started (Gatehouse processes, the reference server, Keycloak's JVM, the
 * services under .data/bench-services) is stopped on every way out of the run, once: the
 * script's own `finally`, an uncaught exception or rejection (an ioredis 'error' event without a
 * listener is one), SIGINT, SIGTERM or SIGHUP, and process.exit() (synchronously, SIGKILL).
 * Each thing started registers here; its stop() runs at most once, whichever path comes first.
 */

interface Entry {
  readonly name: string;
  readonly stop: () => Promise<void>;
  /** Synchronous last resort for the 'exit' event (no event loop left): SIGKILL and the like. */
  readonly killNow: () => void;
}

const entries: Entry[] = [];
let installed = false;
let leaving = false;

const say = (message: string) => process.stderr.write(`bench: ${message}\n`);

/** `run` started at the first call (synchronously up to its first await); later calls share its promise. */
function once(run: () => Promise<void> | void): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => (result ??= (async () => run())());
}

/** Stops everything still registered, newest first (servers before the services they use). */
export async function stopEverything(): Promise<void> {
  for (const entry of [...entries].reverse()) {
    try {
      await entry.stop();
    } catch (error) {
      say(`stopping ${entry.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

async function leave(reason: string, code: number): Promise<void> {
  if (leaving) return;
  leaving = true;
  if (entries.length > 0) say(`${reason}: stopping ${[...entries].reverse().map((entry) => entry.name).join(', ')}`);
  await stopEverything();
  process.exit(code);
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
    process.on(signal, () => {
      // A second signal while stopping: no more waiting.
      if (leaving) process.exit(128 + number);
      void leave(signal, 128 + number);
    });
  }
  // Node's own report of what ended the run (a failed top-level await arrives here too).
  process.on('uncaughtException', (error) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    void leave('crashed', 1);
  });
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`Unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`);
    void leave('crashed', 1);
  });
  process.on('exit', () => {
    for (const entry of [...entries].reverse()) {
      try {
        entry.killNow();
      } catch {
        // already gone
      }
    }
  });
}

/**
 * Registers something the run started. Returns its stop: runs `stop` once (later calls get the
 * same promise) and forgets the entry; the exit paths above call it too.
 */
export function stopOnExit(name: string, stop: () => Promise<void> | void, killNow: () => void = () => {}): () => Promise<void> {
  install();
  const entry: Entry = {
    name,
    killNow,
    stop: once(async () => {
      try {
        await stop();
      } finally {
        entries.splice(entries.indexOf(entry), 1);
      }
    }),
  };
  entries.push(entry);
  return entry.stop;
}

/**
 * The stop of a child process, registered: SIGTERM (to its process group when it was spawned
 * `detached`, e.g. kc.sh and the JVM it starts), SIGKILL after `graceMs`, resolved on its exit.
 */
export function stopProcessOnExit(name: string, child: ChildProcess, options: { group?: boolean; graceMs?: number } = {}): () => Promise<void> {
  const signal = (which: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      if (options.group === true) process.kill(-child.pid, which);
      else child.kill(which);
    } catch {
      // already gone
    }
  };
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return stopOnExit(
    name,
    () =>
      new Promise<void>((resolve) => {
        if (exited()) return resolve();
        const timer = setTimeout(() => signal('SIGKILL'), options.graceMs ?? 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        signal('SIGTERM');
      }),
    () => {
      if (!exited()) signal('SIGKILL');
    },
  );
}
