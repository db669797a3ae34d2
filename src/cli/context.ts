import { readFileSync } from 'node:fs';
import { loadConfig, type Config } from '../config/load.ts';
import { EXIT, GatehouseError } from '../errors/gatehouse-error.ts';

/** What every CLI command gets: the server's own settings and where to print. */
export interface CliContext {
  readonly config: Config;
  readonly json: boolean;
  readonly out: (text: string) => void;
}

/** CLI errors carry their exit code; the message is printed as is, never a stack trace. */
export class CliError extends GatehouseError {
  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message, { status: exitCode === EXIT.usage ? 400 : 500, code: exitCode === EXIT.usage ? 'invalid_request' : 'server_error', expose: true, exitCode });
  }
}

export function openContext(env: NodeJS.ProcessEnv, json: boolean): CliContext {
  const config = loadConfig({ env, readFile: (path) => readFileSync(path, 'utf8') });
  return { config, json, out: (text) => process.stdout.write(`${text}\n`) };
}
