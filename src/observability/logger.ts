import { pino, type DestinationStream, type Logger } from 'pino';
import { currentRequestId } from './request-context.ts';

export type { Logger };

const CREDENTIAL_FIELDS = [
  'password',
  'new_password',
  'passwordHash',
  'secret',
  'client_secret',
  'client_assertion',
  'assertion',
  'subject_token',
  'actor_token',
  'token',
  'access_token',
  'accessToken',
  'refresh_token',
  'refreshToken',
  'id_token',
  'idToken',
  'id_token_hint',
  'logout_token',
  'code',
  'code_verifier',
  'device_code',
  'user_code',
  'authorization',
  'cookie',
  'cookies',
  'set-cookie',
  'csrf',
  'dpop',
];

/**
 * Paths that may carry credentials: each field at the top level, one level down (`*.field`)
 * and in the header objects request loggers usually attach. Redaction happens in the logger, so
 * a careless call site cannot leak them; callers still avoid logging such values at all (the
 * request log writes the path without the query string and never a body).
 */
export const REDACT_PATHS = [
  ...CREDENTIAL_FIELDS.map((field) => (/^[a-z_]+$/i.test(field) ? field : `["${field}"]`)),
  ...CREDENTIAL_FIELDS.map((field) => (/^[a-z_]+$/i.test(field) ? `*.${field}` : `*["${field}"]`)),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers.dpop',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers.dpop',
  'headers["set-cookie"]',
  'err.config',
  'err.params',
  'err.body',
];

/** JSON lines; while serving a request every line carries its `requestId`. */
/** Same names as GATEHOUSE_LOG_LEVEL (src/config/load.ts). */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** `bindings` go on every line (with GATEHOUSE_WORKERS: `worker`, 0 for the supervisor). */
export function createLogger(level: LogLevel, destination?: DestinationStream, bindings: Readonly<Record<string, string | number>> = {}): Logger {
  return pino(
    {
      level,
      base: { service: 'gatehouse', ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => {
        const requestId = currentRequestId();
        return requestId === undefined ? {} : { requestId };
      },
    },
    destination,
  );
}
