import { readFileSync, statSync } from 'node:fs';
import { EXIT } from '../errors/gatehouse-error.ts';
import { CliError, type CliContext } from './context.ts';
import { readStdinSecret } from './services.ts';
import { fileProblem } from './file-problem.ts';
import { shown } from './help.ts';

/**
 * Where `export` and `import` take an encrypted file's passphrase from: a file or standard input,
 * never an argument (other users see arguments in `ps`) and not an environment variable (a child
 * process inherits it, and `/proc/PID/environ` and crash reports show it; a file — a mounted
 * secret, `/dev/fd/3`, `<(pass show backup)` — does all a variable would).
 */
export const PASSPHRASE_OPTIONS = {
  'passphrase-file': { type: 'string' },
  'passphrase-stdin': { type: 'boolean' },
} as const;

/** An export's passphrase at least this long (characters): the file can be guessed at offline, without limit. */
export const PASSPHRASE_MIN_LENGTH = 12;

export interface PassphraseFlags {
  readonly 'passphrase-file'?: string | undefined;
  readonly 'passphrase-stdin'?: boolean | undefined;
}

export function passphraseGiven(flags: PassphraseFlags): boolean {
  return flags['passphrase-file'] !== undefined || flags['passphrase-stdin'] === true;
}

/** The passphrase from --passphrase-file or --passphrase-stdin; undefined when neither was given. */
export async function readPassphrase(ctx: CliContext, flags: PassphraseFlags, purpose: 'export' | 'import'): Promise<string | undefined> {
  const path = flags['passphrase-file'];
  if (path !== undefined && flags['passphrase-stdin'] === true) throw new CliError('--passphrase-file and --passphrase-stdin: give one of them', EXIT.usage);
  let passphrase: string;
  if (path !== undefined) passphrase = fromFile(ctx, path);
  else if (flags['passphrase-stdin'] === true) passphrase = await fromStdin(ctx, purpose);
  else return undefined;
  if (purpose === 'export' && [...passphrase].length < PASSPHRASE_MIN_LENGTH) {
    throw new CliError(`the passphrase is shorter than ${PASSPHRASE_MIN_LENGTH} characters: an encrypted export can be guessed at offline (a generated one is best: openssl rand -base64 32 > backup.pass)`, EXIT.usage);
  }
  return passphrase;
}

/** The file's text without one final line break (what `echo` or an editor adds). */
function fromFile(ctx: CliContext, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`--passphrase-file ${shown(path)}: cannot read it (${fileProblem(error)})`, EXIT.usage);
  }
  const passphrase = text.replace(/\r?\n$/, '');
  if (passphrase === '') throw new CliError(`--passphrase-file ${shown(path)}: the file is empty`, EXIT.usage);
  try {
    const { mode } = statSync(path);
    // A regular file others can read (not a pipe such as /dev/fd/3 or a process substitution).
    if ((mode & 0o170000) === 0o100000 && (mode & 0o077) !== 0) {
      ctx.warn?.(`warning: --passphrase-file ${shown(path)} can be read by other users (mode ${(mode & 0o777).toString(8)}): chmod 600 it`);
    }
  } catch {
    // Read a moment ago; a file gone since has nothing to warn about.
  }
  return passphrase;
}

async function fromStdin(ctx: CliContext, purpose: 'export' | 'import'): Promise<string> {
  const passphrase = await readStdinSecret(ctx, '--passphrase-stdin', { prompt: purpose === 'export' ? 'Passphrase for the export: ' : 'Passphrase of the export: ' });
  // Typed at a terminal, a typo would make a backup nobody can open: asked twice.
  if (purpose === 'export' && ctx.readHidden !== undefined && (await ctx.readHidden('The same passphrase again: ')) !== passphrase) {
    throw new CliError('the two passphrases differ: nothing was exported', EXIT.usage);
  }
  return passphrase;
}
