import { readFileSync } from 'node:fs';
import type { Connection } from 'mongoose';
import { loadConfig, type Config } from '../config/load.ts';
import { EXIT, GatehouseError } from '../errors/gatehouse-error.ts';
import { connectMongo } from '../storage/mongo.ts';

/** What every CLI command gets: the server's own settings and an open MongoDB connection. */
export interface CliContext {
  readonly config: Config;
  readonly mongo: Connection;
  readonly json: boolean;
  readonly out: (text: string) => void;
}

/** CLI errors carry their exit code; the message is printed as is, never a stack trace. */
export class CliError extends GatehouseError {
  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message, { status: exitCode === EXIT.usage ? 400 : 500, code: exitCode === EXIT.usage ? 'invalid_request' : 'server_error', expose: true, exitCode });
  }
}

export async function openContext(env: NodeJS.ProcessEnv, json: boolean): Promise<CliContext> {
  const config = loadConfig({ env, readFile: (path) => readFileSync(path, 'utf8') });
  const mongo = await connectMongo({ uri: config.mongodbUri.reveal(), timeoutMs: config.mongodbTimeoutMs }).catch(
    (error: unknown) => {
      throw new CliError(`MONGODB_URI: cannot connect to MongoDB (${error instanceof Error ? error.message : String(error)})`);
    },
  );
  return { config, mongo, json, out: (text) => process.stdout.write(`${text}\n`) };
}
