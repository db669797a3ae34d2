import { StringDecoder } from 'node:string_decoder';
import { CliError } from './cli-error.ts';
import { keyEvents } from './terminal-keys.ts';

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
 * When a secret of several lines is complete, asked after each Enter with what was typed so far
 * (lines joined by "\n"). Without one, the first Enter ends the secret.
 */
export type SecretComplete = (text: string) => boolean;

const segmenter = new Intl.Segmenter();
/** The line without its last character as the person sees it (a grapheme: "é" typed as e + accent goes at once). */
function withoutLast(line: string): string {
  let last = 0;
  for (const { index } of segmenter.segment(line)) last = index;
  return line.slice(0, last);
}

/**
 * Reads a secret typed at a terminal without echoing it: `prompt` goes to `write` (stderr), the
 * terminal is put in raw mode until the secret ends, and is restored on every path.
 *
 * Editing keys work as on a terminal's own line editing: Backspace (or Ctrl-H) deletes the last
 * character, Ctrl-W the last word, Ctrl-U the line. Escape sequences — arrow keys, Home, Delete,
 * function keys, Alt-combinations — are dropped whole, never kept in the secret (the prompt has
 * no cursor to move), and so are other control characters. Ctrl-C aborts (CliError with exit
 * code 130) before anything was done.
 *
 * One line by default: Enter ends it, Ctrl-D on an empty line ends it empty. With `complete`,
 * several lines (a pasted PEM or JSON key): after each Enter the text so far is offered to
 * `complete`, and Ctrl-D ends it as it is (end of input, as in a shell).
 */
export function readHiddenText(input: TerminalInput, write: (text: string) => void, prompt: string, complete?: SecretComplete): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let line = '';
    const decoder = new StringDecoder('utf8');
    const keys = keyEvents();
    const finish = (outcome: string | CliError): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      write('\n');
      if (outcome instanceof CliError) reject(outcome);
      else resolve(outcome);
    };
    const onData = (chunk: Buffer | string): void => {
      // The decoder keeps a character split between two chunks for the next one.
      const typed = Buffer.isBuffer(chunk) ? decoder.write(chunk) : chunk;
      for (const key of keys(typed)) {
        switch (key.kind) {
          case 'enter':
            if (complete === undefined) return finish(line);
            lines.push(line);
            line = '';
            if (complete(lines.join('\n'))) return finish(lines.join('\n'));
            break;
          case 'interrupt':
            return finish(new CliError('interrupted: nothing was changed', EXIT_INTERRUPTED));
          case 'end':
            if (complete !== undefined) return finish([...lines, ...(line === '' ? [] : [line])].join('\n'));
            if (line === '') return finish('');
            break;
          case 'backspace':
            line = withoutLast(line);
            break;
          case 'erase-word':
            line = line.replace(/\S*\s*$/u, '');
            break;
          case 'erase-line':
            line = '';
            break;
          case 'text':
            line += key.text;
            break;
        }
      }
    };
    // Echo off before the prompt shows: keys typed as soon as it appears are never echoed.
    input.setRawMode(true);
    input.on('data', onData);
    write(prompt);
    input.resume();
  });
}

/**
 * One line typed at a terminal without echo (see readHiddenText): Enter ends it, Ctrl-D on an
 * empty line ends it empty, Ctrl-C aborts with exit code 130.
 */
export function readHiddenLine(input: TerminalInput, write: (text: string) => void, prompt: string): Promise<string> {
  return readHiddenText(input, write, prompt);
}
