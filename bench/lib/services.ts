import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { stopOnExit } from './exit-guard.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

/** A free loopback port for a server the bench starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function scriptsServices(command: 'up' | 'down'): string {
  const { MONGODB_URI: _mongo, REDIS_URL: _redis, ...inherited } = process.env;
  const env = { ...inherited, GATEHOUSE_SERVICES_DIR: `${ROOT}.data/bench-services` };
  return execFileSync('bash', ['scripts/services', command], { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

/** `down` of the services this run brought up, registered for every exit path (bench/lib/exit-guard.ts). */
let servicesDown: (() => Promise<void>) | undefined;

/**
 * The bench's own services (scripts/services with `.data/bench-services`), never whatever
 * MONGODB_URI / REDIS_URL point at: every bench script drops its database first. After `up`,
 * the services go `down` on any exit (a crash, a signal) unless the script did it first.
 */
export function benchServices(command: 'up' | 'down'): string {
  if (command === 'down' && servicesDown !== undefined) {
    void servicesDown();
    servicesDown = undefined;
    return '';
  }
  const lines = scriptsServices(command);
  if (command === 'up' && servicesDown === undefined) {
    let down = false;
    const stop = () => {
      if (down) return;
      down = true;
      scriptsServices('down');
    };
    servicesDown = stopOnExit('the bench services', stop, stop);
  }
  return lines;
}

/** Starts the bench's services; the MongoDB URI points at `database`. */
export function benchServicesUp(database: string): { mongodbUri: string; redisUrl: string } {
  const lines = benchServices('up');
  const value = (name: string) => lines.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1] ?? '';
  const mongodb = new URL(value('MONGODB_URI'));
  mongodb.pathname = `/${database}`;
  return { mongodbUri: mongodb.toString(), redisUrl: value('REDIS_URL') };
}

/** What serves MongoDB's wire protocol to the bench, for its report. */
export function benchDatabaseKind(): string {
  const backendFile = `${ROOT}.data/bench-services/mongo.backend`;
  if (existsSync(backendFile)) {
    const backend = readFileSync(backendFile, 'utf8').trim();
    if (backend === 'mongod') return 'MongoDB (mongod)';
    return `FerretDB v1.24.2 (${backend === 'postgresql' ? 'PostgreSQL' : 'SQLite'} backend)`;
  }
  return 'MongoDB (mongod)';
}
