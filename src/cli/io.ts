import { readHiddenText, type SecretComplete } from './terminal-secret.ts';

/** Where a command line runs: the process's environment and standard streams (src/cli/main.ts), or a test's. */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdin: AsyncIterable<Buffer | string>;
  /** Set only when standard input is a terminal: shows `prompt` and reads a secret without echo (one line, or until `complete`). */
  readonly readHidden?: (prompt: string, complete?: SecretComplete) => Promise<string>;
}

/** The process's own: what `gatehouse` runs with. */
export function processIo(): CliIo {
  // A reader that stopped early (`gatehouse audit | head`): the rest of the output goes nowhere and
  // the command ends as it would have, with its own exit code — not with Node's EPIPE stack trace.
  let readerGone = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    readerGone = true;
  });
  return {
    env: process.env,
    stdout: (text) => {
      if (!readerGone) process.stdout.write(text);
    },
    stderr: (text) => void process.stderr.write(text),
    stdin: process.stdin,
    ...(process.stdin.isTTY ? { readHidden: (prompt: string, complete?: SecretComplete) => readHiddenText(process.stdin, (text) => void process.stderr.write(text), prompt, complete) } : {}),
  };
}
