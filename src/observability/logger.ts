import { pino, type DestinationStream, type Logger } from 'pino';
import { redactedErrorSerializer, redactLogObject } from './log-redaction.ts';
import { isoTimeOncePerSecond } from './log-time.ts';
import { currentRequestId } from './request-context.ts';

export type { Logger };

/** Same names as GATEHOUSE_LOG_LEVEL (src/config/load.ts). */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * JSON lines; while serving a request every line carries its `requestId`. `bindings` go on every
 * line (with GATEHOUSE_WORKERS: `worker`, 0 for the supervisor). Credential fields are redacted
 * in the logger, so a careless call site cannot leak them: at the top level, one level down, in
 * the header objects request loggers usually attach, and the error's client-library extras
 * (src/observability/log-redaction.ts says exactly where); child bindings alike. Callers still
 * avoid logging such values at all (the request log writes the path without the query string
 * and never a body).
 */
export function createLogger(level: LogLevel, destination?: DestinationStream, bindings: Readonly<Record<string, string | number>> = {}): Logger {
  const logger = pino(
    {
      level,
      base: { service: 'gatehouse', ...bindings },
      // pino's isoTime, formatted once per second (log-time.ts).
      timestamp: isoTimeOncePerSecond(),
      // Instead of pino's `redact` paths: the same places, a fraction of the cost (log-redaction.ts).
      formatters: { level: (label) => ({ level: label }), log: redactLogObject, bindings: redactLogObject },
      serializers: { err: redactedErrorSerializer },
      mixin: () => {
        const requestId = currentRequestId();
        return requestId === undefined ? {} : { requestId };
      },
    },
    destination,
  );
  // pino runs `formatters.bindings` on the root's bindings only: a child's are redacted here
  // (children are made from their parent, so every descendant inherits this `child`).
  const pinoChild = logger.child;
  logger.child = function child(this: Logger, childBindings: Record<string, unknown>, options?: unknown) {
    return pinoChild.call(this, redactLogObject(childBindings), options as never);
  } as Logger['child'];
  return logger;
}
