import { CliError } from './cli-error.ts';

/** The bits of a terminal (node:tty ReadStream) a hidden prompt needs; a test can pass its own. */
export interface TerminalInput {
  setRawMode(raw: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** Exit code of a prompt interrupted with Ctrl-C (128 + SIGINT, as shells report it). */
export const EXIT_INTERRUPTED = 130;

/**
 * Reads one line typed at a terminal without echoing it: `prompt` goes to `write` (stderr), the
 * terminal is put in raw mode until Enter. Backspace deletes the last character, Ctrl-U the line,
 * Ctrl-D on an empty line ends it; Ctrl-C aborts (CliError with exit code 130) before anything
 * was done. The terminal's mode is restored on every path.
 */
export function readHiddenLine(input: TerminalInput, write: (text: string) => void, prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let chars: string[] = [];
    const finish = (error?: CliError): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      write('\n');
      if (error === undefined) resolve(chars.join(''));
      else reject(error);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of Buffer.isBuffer(chunk) ? chunk.toString('utf8') : chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new CliError('interrupted: nothing was changed', EXIT_INTERRUPTED));
        if (ch === '\u0004') {
          if (chars.length === 0) return finish();
          continue;
        }
        if (ch === '\u007f' || ch === '\b') chars.pop();
        else if (ch === '\u0015') chars = [];
        else if (ch >= ' ') chars.push(ch);
      }
    };
    // Echo off before the prompt shows: keys typed as soon as it appears are never echoed.
    input.setRawMode(true);
    input.on('data', onData);
    write(prompt);
    input.resume();
  });
}
