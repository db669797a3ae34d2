import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server.ts';
import { killChild } from './process.ts';

export const FERRETDB_BIN = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'gatehouse', 'ferretdb-v1.24.2', 'ferretdb');

/**
 * A FerretDB (MongoDB wire protocol, SQLite backend) of a test's own, so the test may stop and
 * restart it; data survives restarts (same directory) until `remove`.
 */
export class TestFerret {
  readonly port: number;
  readonly dir: string;
  #child: ChildProcess | undefined;

  constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  static async start(): Promise<TestFerret> {
    const ferret = new TestFerret(await freePort(), mkdtempSync(join(tmpdir(), 'gh-ferret-')));
    await ferret.start();
    return ferret;
  }

  uri(database: string): string {
    return `mongodb://127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      FERRETDB_BIN,
      [
        '--handler=sqlite',
        `--sqlite-url=file:${this.dir}/`,
        `--state-dir=${this.dir}`,
        `--listen-addr=127.0.0.1:${this.port}`,
        '--telemetry=disable',
        '--debug-addr=-',
        '--log-level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.#child = child;
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // 60 s: a loaded machine starts it slowly; the bound only turns one that never listens into a message.
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`ferretdb exited with ${child.exitCode}: ${output}`);
      const open = await new Promise<boolean>((resolve) => {
        const socket = net.connect(this.port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      // Its own answer only while it runs: one that could not bind exits, and the port is someone else's.
      if (open && child.exitCode === null) return;
      if (Date.now() > deadline) throw new Error(`ferretdb did not listen within 60 s: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    await killChild(this.#child);
    this.#child = undefined;
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

