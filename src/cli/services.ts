import { userInfo } from 'node:os';
import type { Core } from '../composition/core.ts';
import type { CommandUse } from './composition.ts';
import type { OperationContext } from '../operations/context.ts';
import type { Operations } from '../operations/index.ts';
import { CliError, type CliContext } from './context.ts';
import type { SecretComplete } from './terminal-secret.ts';

/** The CLI's principal in audit events: the operating-system user who ran the command. */
export function cliActor(): OperationContext {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (some containers): still audited, as "unknown".
  }
  return { actor: { type: 'cli', id: name } };
}

/**
 * Runs one command through the same operations as the admin API (src/cli/composition.ts). The
 * composition and its store drivers load here, when a command first needs them: help, a mistyped
 * command and a flag error never load them.
 */
export async function withOperations<T>(ctx: CliContext, run: (ops: Operations) => Promise<T>, use?: CommandUse): Promise<T> {
  const composition = await import('./composition.ts');
  return composition.withOperations(ctx, run, use);
}

/** withOperations for a command that only reads: no index is created or checked (src/cli/composition.ts). */
export function readOperations<T>(ctx: CliContext, run: (ops: Operations) => Promise<T>): Promise<T> {
  return withOperations(ctx, run, { writes: false });
}

/** The composition itself, for scripts that seed data (scripts/dev-seed.ts); commands use withOperations. */
export async function withCore<T>(ctx: CliContext, run: (core: Core) => Promise<T>): Promise<T> {
  const composition = await import('./composition.ts');
  return composition.withCore(ctx, run);
}

/** How a secret is asked for when standard input is a terminal. */
export interface SecretPrompt {
  readonly prompt: string;
  /** For a secret of several lines (a key): when what was typed is complete (src/cli/terminal-secret.ts). */
  readonly complete?: SecretComplete;
}

/**
 * Reads a secret from standard input (never from argv, which other users can see). With a
 * terminal on standard input, the secret is typed after the prompt without echo (one line, or
 * until `complete` says so); piped input is read to its end as always.
 */
export async function readStdinSecret(ctx: CliContext, what: string, typed: SecretPrompt): Promise<string> {
  if (ctx.readHidden !== undefined) {
    const value = await ctx.readHidden(typed.prompt, typed.complete);
    if (value === '') throw new CliError(`${what}: nothing was typed`, 2);
    return value;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.stdin) chunks.push(Buffer.from(chunk));
  const value = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (value === '') throw new CliError(`${what}: nothing on standard input (pipe it in: printf '%s' "$PASSWORD" | gatehouse ...)`, 2);
  return value;
}
