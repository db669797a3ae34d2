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
  const counts = {
    apis: document.apis.length,
    roles: document.roles.length,
    groups: document.groups.length,
    clients: document.clients.length,
    users: document.users.length,
    second_factors: document.second_factors.length,
    passkeys: document.passkeys.length,
    consents: document.consents.length,
  };
  ctx.out(ctx.json ? JSON.stringify({ file: path, ...counts }) : `exported to ${path} (mode 0600; it holds password hashes, client secrets and authenticator-app secrets): ${JSON.stringify(counts)}`);
}

/** gatehouse import --input FILE | gatehouse import --keycloak REALM_EXPORT [--dry-run] */
export async function importCommand(ctx: CliContext, args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { input: { type: 'string', short: 'i' }, keycloak: { type: 'string' }, 'dry-run': { type: 'boolean', default: false }, api: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (values.keycloak !== undefined) return importKeycloak(ctx, values.keycloak, values['dry-run'], values.api);
  if (values['dry-run'] || values.api !== undefined) throw new CliError('--dry-run and --api go with --keycloak', 2);
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

/** gatehouse import --keycloak REALM_EXPORT [--dry-run]: a Keycloak realm export (kc.sh export). */
async function importKeycloak(ctx: CliContext, path: string, dryRun: boolean, api: string | undefined): Promise<void> {
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    throw new CliError(`${path}: cannot read a JSON realm export (${error instanceof Error ? error.message : String(error)})`, 2);
  }
  const report = await withOperations(ctx, (ops) => ops.keycloak.import(cliActor(), document, { dryRun, api }));
  if (ctx.json) {
    ctx.out(JSON.stringify(report));
    return;
  }
  const count = (kind: { created: string[]; updated: string[] }) => `${kind.created.length} new, ${kind.updated.length} updated`;
  ctx.out(`${dryRun ? 'dry run (nothing written) for' : 'imported'} Keycloak realm ${report.realm}:`);
  if (report.api !== undefined) ctx.out(`  API ${report.api.identifier} (Keycloak-shaped tokens, every imported client's default): ${report.api.created ? 'new' : 'existing'}`);
  ctx.out(`  roles: ${count(report.roles)}; groups: ${count(report.groups)}; clients: ${count(report.clients)}; users: ${count(report.users)}`);
  for (const [clientId, uris] of Object.entries(report.nativeClients)) ctx.out(`  client ${clientId} → native app (application_type native, RFC 8252): ${uris.join(', ')}`);
  ctx.out(`  kept password hashes: ${Object.entries(report.passwordAlgorithms).map(([algorithm, n]) => `${algorithm} ${n}`).join(', ') || 'none'} (re-hashed to argon2id at each user's first sign-in)`);
  if (report.passwordsKept.length > 0) ctx.out(`  passwords already changed or upgraded in Gatehouse, kept: ${report.passwordsKept.join(', ')}`);
  const { imported, unchanged, kept } = report.totp;
  if (imported.length + unchanged.length + kept.length > 0) {
    ctx.out(`  authenticator apps (TOTP): ${imported.length} taken over, ${unchanged.length} already there${kept.length > 0 ? `, ${kept.length} kept (enrolled in Gatehouse since: ${kept.join(', ')})` : ''}`);
  }
  const { upstream } = report;
  if (upstream.created.length + upstream.updated.length > 0) {
    ctx.out(`  identity providers → upstream providers: ${count(upstream)}; federated identities → links: ${upstream.links.created} new, ${upstream.links.unchanged} already there`);
    for (const [alias, mapped] of Object.entries(upstream.mapped)) ctx.out(`    ${alias}: ${mapped.join('; ')}`);
    if (upstream.secretsToSet.length > 0) {
      ctx.out(`  imported disabled until their client secret is set (gatehouse idps update ALIAS --client-secret-stdin --enabled): ${upstream.secretsToSet.join(', ')}`);
    }
  }
  for (const conflict of report.conflicts) ctx.out(`  conflict: ${conflict.user}: ${conflict.reason}`);
  if (report.refusedUsers.length > 0) ctx.out(`  users refused (the admin API refuses them too; the others are imported): ${report.refusedUsers.length}`);
  for (const refused of report.refusedUsers) ctx.out(`    ${refused.user}: ${refused.reason}`);
  if (report.builtInClients.length > 0) ctx.out(`  Keycloak's built-in clients, skipped on purpose (Gatehouse has its own console, account page and admin API): ${report.builtInClients.join(', ')}`);
  if (report.unmapped.length > 0) ctx.out('not mapped:');
  for (const item of report.unmapped) ctx.out(`  ${item.kind} ${item.name}: ${item.reason}`);
}
