import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/observability/logger.ts';

/** A real Gatehouse logger (same redaction, same mixin) whose JSON lines are kept for the test. */
export function captureLogs(level: 'info' | 'debug' | 'trace' = 'debug'): {
  logger: Logger;
  text(): string;
  lines(): Array<Record<string, unknown>>;
  /** The access log line of a request, once its response has closed (it is written on the response's 'close'). */
  requestLine(requestId: string): Promise<Record<string, unknown>>;
} {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger(level, stream);
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    logger,
    text: () => chunks.join(''),
    lines,
    async requestLine(requestId) {
      // A few turns of the event loop: the response's 'close' comes after the client has the body.
      for (let turn = 0; turn < 50; turn += 1) {
        const line = lines().find((entry) => entry.msg === 'request' && entry.requestId === requestId);
        if (line !== undefined) return line;
        await new Promise((resolve) => setImmediate(resolve));
      }
      throw new Error(`no access log line for ${requestId}`);
    },
  };
}
