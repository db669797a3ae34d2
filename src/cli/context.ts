import { readFileSync } from 'node:fs';
import { loadConfig, type Config } from '../config/load.ts';

/** What every CLI command gets: the server's own settings and where to print. */
export interface CliContext {
  readonly config: Config;
  readonly json: boolean;
  readonly out: (text: string) => void;
}

/** CLI errors carry their exit code; the message is printed as is, never a stack trace. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export function openContext(env: NodeJS.ProcessEnv, json: boolean): CliContext {
  const config = loadConfig({ env, readFile: (path) => readFileSync(path, 'utf8') });
  return { config, json, out: (text) => process.stdout.write(`${text}\n`) };
}
