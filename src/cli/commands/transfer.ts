import { chmodSync, closeSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CliError, type CliContext } from '../context.ts';
import { cliActor, withOperations } from '../services.ts';

/** Writes a file that is 0600 from its first byte (no window in which others could read it). */
function writePrivate(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/** gatehouse export --output FILE */
export async function exportCommand(ctx: CliContext, args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { output: { type: 'string', short: 'o' }, json: { type: 'boolean' } }, allowPositionals: true });
  const path = values.output ?? positionals[0];
  if (path === undefined) throw new CliError('--output FILE is required (the export holds password hashes and secrets; it is written with mode 0600)', 2);
  const document = await withOperations(ctx, (ops) => ops.transfer.export(cliActor()));
  writePrivate(path, `${JSON.stringify(document, null, 2)}\n`);
  const counts = { apis: document.apis.length, roles: document.roles.length, groups: document.groups.length, clients: document.clients.length, users: document.users.length };
  ctx.out(ctx.json ? JSON.stringify({ file: path, ...counts }) : `exported to ${path} (mode 0600; it holds password hashes and client secrets): ${JSON.stringify(counts)}`);
}

/** gatehouse import --input FILE */
export async function importCommand(ctx: CliContext, args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { input: { type: 'string', short: 'i' }, json: { type: 'boolean' } }, allowPositionals: true });
  const path = values.input ?? positionals[0];
  if (path === undefined) throw new CliError('--input FILE is required', 2);
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    throw new CliError(`${path}: cannot read a JSON export (${error instanceof Error ? error.message : String(error)})`, 2);
  }
  const summary = await withOperations(ctx, (ops) => ops.transfer.import(cliActor(), document));
  ctx.out(ctx.json ? JSON.stringify(summary) : `imported: ${JSON.stringify(summary)}`);
}
