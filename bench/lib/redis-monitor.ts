import { connect, type Socket } from 'node:net';

/*
 * Redis MONITOR on a socket of its own, read line by line. Not ioredis's monitor(): ioredis 6
 * switches a connection into monitoring mode one microtask after MONITOR's +OK, so monitor lines
 * that arrive in the same read as the +OK (any busy Redis) are taken for replies to commands it
 * never sent — "Command queue state error", emitted as an 'error' event nobody listens to: an
 * uncaught exception that ended a bench run (and, before bench/lib/exit-guard.ts, left its
 * servers running).
 */

export interface MonitoredCommand {
  /** The command's name, lower case. */
  readonly name: string;
  /** Its first argument (unescaped only as far as the marker needs: plain words). */
  readonly firstArgument: string | undefined;
  /** `lua` for a command a script ran, else the client's address. */
  readonly source: string;
}

export interface RedisAddress {
  readonly host?: string;
  readonly port?: number;
  readonly path?: string | null;
  readonly username?: string | null;
  readonly password?: string | null;
}

export interface RedisMonitor {
  /** Resolves once the monitor has seen ECHO `marker` (every command Redis ran before it is seen by then). */
  seen(marker: string): Promise<void>;
  close(): void;
}

const LINE = /^\+\S+ \[\d+ ([^\]]*)\] "((?:[^"\\]|\\.)*)"(?: "((?:[^"\\]|\\.)*)")?/;

/** One MONITOR line (`+<time> [<db> <source>] "<command>" "<arg>" ...`), or undefined for anything else. */
export function parseMonitorLine(line: string): MonitoredCommand | undefined {
  const match = LINE.exec(line);
  if (match === null) return undefined;
  return { name: match[2]!.toLowerCase(), firstArgument: match[3], source: match[1]! };
}

const encode = (args: readonly string[]) => `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;

/** Opens a connection, authenticates if the address says so, sends MONITOR and resolves at its +OK. */
export function monitorRedis(address: RedisAddress, onCommand: (command: MonitoredCommand) => void): Promise<RedisMonitor> {
  const socket: Socket = address.path ? connect({ path: address.path }) : connect({ host: address.host ?? '127.0.0.1', port: address.port ?? 6379 });
  const expectedOks = address.password ? 2 : 1;
  const markers = new Map<string, { done: () => void; failed: (error: Error) => void }>();
  let oks = 0;
  let buffered = '';
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      const auth = address.password ? [encode(address.username ? ['AUTH', address.username, address.password] : ['AUTH', address.password])] : [];
      socket.write([...auth, encode(['MONITOR'])].join(''));
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let end: number;
      while ((end = buffered.indexOf('\r\n')) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (oks < expectedOks) {
          if (line !== '+OK') return fail(new Error(`Redis MONITOR: ${line}`));
          oks += 1;
          if (oks === expectedOks) {
            socket.off('error', fail);
            socket.on('error', () => {}); // 'close' follows and says it to whoever waits
            socket.once('close', () => {
              for (const [marker, waiting] of markers) waiting.failed(new Error(`Redis MONITOR closed before ECHO ${marker}`));
              markers.clear();
            });
            resolve({
              seen: (marker) => new Promise((done, failed) => markers.set(marker, { done, failed })),
              close: () => void socket.destroy(),
            });
          }
          continue;
        }
        const command = parseMonitorLine(line);
        if (command === undefined) continue;
        if (command.name === 'echo' && command.firstArgument !== undefined && markers.has(command.firstArgument)) {
          markers.get(command.firstArgument)!.done();
          markers.delete(command.firstArgument);
          continue;
        }
        onCommand(command);
      }
    });
  });
}
