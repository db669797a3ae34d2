import { EXIT, GatehouseError } from '../errors/gatehouse-error.ts';
import { CliError } from './cli-error.ts';
import { shown, typedParams } from './help.ts';
import type { CliIo } from './io.ts';

/** An error's one line: whatever input reached it unescaped (a library's words) cannot break the line or drive the terminal. */
function oneLine(text: string): string {
  return shown(text, Infinity);
}

/** How the command ends on an error: the same message every surface shows, and its exit code. */
export async function report(raw: unknown, io: CliIo): Promise<number> {
  if (raw instanceof TypeError && 'code' in raw && String(raw.code).startsWith('ERR_PARSE_ARGS')) {
    // node:util's messages quote the argument they refused: shown escaped, like every typed word.
    // Its advice comes as lines: joined into one line of sentences, each escaped.
    io.stderr(`gatehouse: ${shown(raw.message.split('\n').join(' '), 300)}\n`);
    return EXIT.usage;
  }
  // A mistyped command line is said as it is; for any other error the configuration and zod's
  // errors are loaded, to read it as every surface does.
  if (raw instanceof CliError) {
    io.stderr(`gatehouse: ${oneLine(raw.description)}\n`);
    return raw.exitCode;
  }
  const [{ ConfigError }, { normalizeError }, { SettingError }, { problemText }] = await Promise.all([import('../config/load.ts'), import('../errors/normalize.ts'), import('../errors/setting-error.ts'), import('../errors/problems.ts')]);
  if (raw instanceof ConfigError) {
    // Each problem one line (what it quotes of a value is escaped where it is made, src/config/sources.ts).
    for (const problem of raw.problems) io.stderr(`gatehouse: ${oneLine(problem)}\n`);
    return raw.exitCode;
  }
  const error = normalizeError(raw);
  if (raw instanceof SettingError) {
    // A setting's fault, said to the operator who set it: which store could not be reached at
    // which setting (MONGODB_URI, REDIS_URL), not a bare "temporarily unavailable". The exit code
    // stays the outage's (75: retry later) when it is one.
    io.stderr(`gatehouse: ${shown(raw.message, 300)}\n`);
    return error.exitCode;
  }
  // What names nothing (`client {id} does not exist`) says the id as typed input is shown.
  const problem = error.details.length === 0 ? error.problem : undefined;
  const described = problem !== undefined && error.description === problemText(problem.code, problem.params) ? problemText(problem.code, typedParams(problem.params)) : error.description;
  const text = error.status >= 500 && !(raw instanceof GatehouseError) ? `unexpected error: ${raw instanceof Error ? raw.message : String(raw)}` : described;
  io.stderr(`gatehouse: ${oneLine(text)}\n`);
  return error.exitCode;
}
