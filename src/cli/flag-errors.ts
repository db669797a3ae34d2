import { ZodError } from 'zod';
import { GatehouseError, type ErrorDetail } from '../errors/gatehouse-error.ts';
import { normalizeError } from '../errors/normalize.ts';
import { problemText } from '../errors/problems.ts';
import { shown, typedParams } from './help.ts';

/**
 * Where the fields of an operation's input come from on one command's line: a field path as the
 * admin API names it (`redirect_uris`, `token_exchange.apis`, `address.country`) → the flag that
 * sets it (`--redirect-uri`, given once per value; `--scope words` for a flag whose one value is
 * split into words; `--attribute names` for a flag whose values are `NAME=VALUE`, the error naming
 * the NAME; `--jwks|--jwks-file` when either does) or the argument (`NAME`).
 */
export type FlagsOf = Readonly<Record<string, string>>;

/** The values a flag was given on the command line, in order (`--flag VALUE` and `--flag=VALUE`). */
function flagValues(args: readonly string[], flag: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (arg === '--') break;
    if (arg === flag && i + 1 < args.length) values.push(args[(i += 1)]!);
    else if (arg.startsWith(`${flag}=`)) values.push(arg.slice(flag.length + 1));
  }
  return values;
}

/** Of alternatives (`--jwks|--jwks-file`), the one typed; the first when none was (a default, a --no- form). */
function typedFlag(source: string, args: readonly string[]): string {
  const alternatives = source.split('|');
  return alternatives.find((flag) => args.some((arg) => arg === flag || arg.startsWith(`${flag}=`))) ?? alternatives[0]!;
}

/**
 * A detail's path said as the command line said it: `redirect_uris.1` → `--redirect-uri 'x'` (the
 * second value given, as typed), `name` → `--name`, a field removed with `--unset logo_uri` →
 * `--unset logo_uri`; a path the command has no flag for stays as the API names it.
 */
export function flagPath(path: string, flags: FlagsOf, args: readonly string[]): string {
  const segments = path.split('.');
  const unset = flagValues(args, '--unset').find((name) => name.replaceAll('-', '_') === segments[0]);
  if (unset !== undefined) return `--unset ${shown(unset)}`;
  for (let length = segments.length; length > 0; length -= 1) {
    const source = flags[segments.slice(0, length).join('.')];
    if (source === undefined) continue;
    if (!source.startsWith('--')) return source;
    const [alternatives, words] = source.split(' ');
    const flag = typedFlag(alternatives!, args);
    const index = segments[length];
    // `attributes.department` (or `.department.1`, an entry of its list): the attribute the flag named.
    if (words === 'names' && index !== undefined) return `${flag} ${shown(index)}`;
    if (index === undefined || !/^\d+$/.test(index)) return flag;
    // One value of a list: the flag's occurrence, or a word of its one value ("read write").
    const given = flagValues(args, flag);
    const value = words === 'words' ? given.at(-1)?.trim().split(/\s+/)[Number(index)] : given[Number(index)];
    return value === undefined ? flag : `${flag} '${shown(value)}'`;
  }
  return path;
}

/** A detail's message, the input its values hold (`a client with id {id} already exists`) shown as typed input is. */
function message(detail: ErrorDetail): string {
  if (detail.code === undefined || detail.message !== problemText(detail.code, detail.params)) return detail.message;
  return problemText(detail.code, typedParams(detail.params));
}

/**
 * An error that names the admin API's fields, said with the flags of the command that was typed:
 * each field at fault becomes its flag (`--redirect-uri 'javascript:x': must be an absolute …`).
 * Exit code, status and codes stay; errors without fields are returned as they are.
 */
export function inFlags(raw: unknown, flags: FlagsOf | undefined, args: readonly string[]): unknown {
  if (flags === undefined || !(raw instanceof GatehouseError || raw instanceof ZodError)) return raw;
  const error = normalizeError(raw);
  if (error.details.length === 0 || !error.expose) return raw;
  const said = (detail: ErrorDetail) => `${flagPath(detail.path, flags, args) || 'body'}: ${message(detail)}`;
  return new GatehouseError([...new Set(error.details.map(said))].join('; '), {
    status: error.status,
    code: error.code,
    expose: true,
    details: error.details,
    problem: error.problem,
    retryAfterSeconds: error.retryAfterSeconds,
    exitCode: error.exitCode,
    cause: raw,
  });
}
