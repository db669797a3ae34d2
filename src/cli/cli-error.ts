import { EXIT, GatehouseError } from '../errors/gatehouse-error.ts';

/** CLI errors carry their exit code; the message is printed as is, never a stack trace. */
export class CliError extends GatehouseError {
  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message, { status: exitCode === EXIT.usage ? 400 : 500, code: exitCode === EXIT.usage ? 'invalid_request' : 'server_error', expose: true, exitCode });
  }
}
