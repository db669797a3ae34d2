import { readFileSync } from 'node:fs';
import { loadConfig, type Config } from '../config/load.ts';
import { withCheckedSettings } from '../settings/configured-check.ts';
import type { CliIo } from './io.ts';
import type { SecretComplete } from './terminal-secret.ts';

/** What every CLI command gets: the server's own settings, where to print and what was piped in. */
export interface CliContext {
  readonly config: Config;
  readonly json: boolean;
  readonly out: (text: string) => void;
  /** A line on standard error (a warning beside the command's output). */
  readonly warn?: (text: string) => void;
  readonly stdin: AsyncIterable<Buffer | string>;
  readonly readHidden?: (prompt: string, complete?: SecretComplete) => Promise<string>;
}

export { CliError } from './cli-error.ts';
export { processIo, type CliIo } from './io.ts';

export function openContext(io: CliIo, json: boolean): CliContext {
  const config = withCheckedSettings(loadConfig({ env: io.env, readFile: (path) => readFileSync(path, 'utf8') }));
  return { config, json, out: (text) => io.stdout(`${text}\n`), warn: (text) => io.stderr(`${text}\n`), stdin: io.stdin, ...(io.readHidden === undefined ? {} : { readHidden: io.readHidden }) };
}
