import { pino } from 'pino';

/** What a redacted value is written as. */
export const CENSOR = '[redacted]';

/** Field names that may carry credentials, wherever the redaction looks (see redactLogObject). */
export const CREDENTIAL_FIELDS: ReadonlySet<string> = new Set([
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
]);

/** Header objects one level further down: `req.headers.authorization` and the like. */
const HEADER_HOLDERS = new Set(['req', 'res']);
/** What an error may carry besides the credential fields: a client library's request (`err.config`), its parameters and a response body. */
const ERROR_EXTRAS = new Set(['config', 'params', 'body']);
const ERROR_KEY = 'err';

type Fields = Record<string, unknown>;

/**
 * A log line's object with credentials replaced by CENSOR, never changing the caller's objects
 * (a copy is made only where something is replaced):
 *
 * - a credential field at the top level (one that is undefined is left out, as pino leaves it);
 * - a credential field one level down, in any object (`*.token`);
 * - `req.headers` and `res.headers`' credential headers (authorization, cookie, dpop, set-cookie).
 *
 * The error under `err` is left to `redactedErrorSerializer` (pino serializes it after this).
 * A value with a `toJSON` is looked at as JSON.stringify would write it (a client record whose
 * JSON is its fingerprint stays its fingerprint). Deeper levels are not searched: callers still
 * avoid logging such values at all (the request log writes the path without the query string
 * and never a body).
 *
 * Together with the serializer it stands in for pino's path-based `redact` with the same paths
 * (`field`, `*.field`, `req.headers.*`, `err.config`, ...): pino ran that wildcard path set over
 * every value of every line, ≈ 70–100 µs a line on this machine (an access log line per request
 * at `info`, the default) against ≈ 1 µs for this (docs/PERFORMANCE.md, thirteenth round).
 */
export function redactLogObject(fields: Fields): Fields {
  let out: Fields | undefined;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const value = fields[key];
    if (value === undefined || key === ERROR_KEY) continue;
    let written: unknown;
    if (CREDENTIAL_FIELDS.has(key)) written = CENSOR;
    else if (isObject(value)) written = redactedLevel(asJson(value, key), HEADER_HOLDERS.has(key));
    else continue;
    if (written === value) continue;
    out ??= copyOf(fields);
    out[key] = written;
  }
  return out ?? fields;
}

/**
 * pino's error serializer (`err`), then the serialized error's credential fields and its
 * `config`, `params` and `body` replaced (what a client library's error carries of a request).
 */
export function redactedErrorSerializer(value: unknown): unknown {
  return redactedLevel(pino.stdSerializers.err(value as Error), false, ERROR_EXTRAS);
}

/** An object's credential fields replaced (and, for `req`/`res`, its headers' ones), or the object itself when it has none. */
function redactedLevel(value: unknown, holdsHeaders: boolean, extras?: ReadonlySet<string>): unknown {
  if (!isObject(value) || Array.isArray(value)) return value;
  const fields = value as Fields;
  let out: Fields | undefined;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    let written: unknown;
    if (CREDENTIAL_FIELDS.has(key) || extras?.has(key) === true) written = CENSOR;
    else if (holdsHeaders && key === 'headers') written = redactedLevel(asJson(fields[key], key), false);
    else continue;
    if (written === fields[key]) continue;
    out ??= copyOf(fields);
    out[key] = written;
  }
  return out ?? value;
}

/** What JSON.stringify would write for the value: its `toJSON`'s result when it has one. */
function asJson(value: unknown, key: string): unknown {
  const toJSON = isObject(value) ? (value as { toJSON?: unknown }).toJSON : undefined;
  return typeof toJSON === 'function' ? (toJSON as (key: string) => unknown).call(value, key) : value;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** The own enumerable fields (what JSON.stringify writes), an own `__proto__` key kept as a field. */
function copyOf(fields: Fields): Fields {
  const copy: Fields = {};
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    if (key === '__proto__') Object.defineProperty(copy, key, { value: fields[key], enumerable: true, writable: true, configurable: true });
    else copy[key] = fields[key];
  }
  return copy;
}
