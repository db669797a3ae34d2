import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { killChild } from './process.ts';

/**
 * A loopback port for a server the test starts later: free now, never given before in this run
 * (this process, or another of npm test's side-by-side processes).
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 100; tries += 1) {
    const port = await unusedPort();
    if (handedOut.has(port) || claimedByAnotherProcess(port)) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('freePort: no port that was not handed out already in 100 tries');
}

/**
 * The ports freePort() gave this process. A port is free only until someone binds it: the OS hands
 * the same one to the next bind(0) once it is closed, so a caller that holds two numbers before
 * starting either server (an instance's port, then another's) could get one twice.
 */
const handedOut = new Set<number>();

/**
 * Whether another mocha process of this run (npm test runs them side by side) was given `port`:
 * one file per port in GATEHOUSE_TEST_PORTS, made with O_EXCL, so exactly one process gets each.
 * Otherwise a port one process picked, and has not started its server on yet, can be the next
 * bind(0) of the other, and one of the two servers fails with EADDRINUSE.
 */
function claimedByAnotherProcess(port: number): boolean {
  const directory = process.env.GATEHOUSE_TEST_PORTS;
  if (directory === undefined || directory === '') return false;
  try {
    mkdirSync(directory, { recursive: true });
    closeSync(openSync(join(directory, String(port)), 'wx'));
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return true;
    throw error;
  }
}

/** A port nothing listens on right now (the OS's choice for bind(0)). */
function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A throwaway redis-server of a test's own, so the test may stop and restart it. */
export class TestRedis {
  readonly port: number;
  #child: ChildProcess | undefined;

  constructor(port: number) {
    this.port = port;
  }

  static async start(): Promise<TestRedis> {
    const redis = new TestRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    });
  }

  async stop(): Promise<void> {
    await killChild(this.#child);
    this.#child = undefined;
  }
}
