import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/observability/logger.ts';

/** A real Gatehouse logger (same redaction, same mixin) whose JSON lines are kept for the test. */
export function captureLogs(level: 'info' | 'debug' | 'trace' = 'debug'): { logger: Logger; text(): string; lines(): Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger(level, stream);
  return {
    logger,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
