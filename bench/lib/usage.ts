import { readFileSync } from 'node:fs';

/** With --help or -h among the arguments: prints the script's opening comment (its usage) and exits. */
export function usageOnHelp(scriptUrl: string): void {
  if (!process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) return;
  const comment = /^\/\*\*([\s\S]*?)\*\//.exec(readFileSync(new URL(scriptUrl), 'utf8'))?.[1] ?? '';
  process.stdout.write(`${comment.split('\n').map((line) => line.replace(/^\s*\* ?/, '')).join('\n').trim()}\n`);
  process.exit(0);
}

/** A command line the script cannot run: the reason on stderr, exit code 2, no stack trace. */
export function usage(message: string): never {
  process.stderr.write(`${message} (--help says how)\n`);
  process.exit(2);
}
