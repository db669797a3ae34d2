import { closeSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { command } from '../command-line.ts';
import { EXIT, invalid } from '../../errors/gatehouse-error.ts';
import { fileJsonBreak } from '../../errors/json-break.ts';
import { refuseUnstorableText } from '../../errors/nul-characters.ts';
import { checkExport } from '../../transfer/export-file.ts';
import { systemClock } from '../../clock.ts';
import { isSealedExport, openSealedExport, sealExport, SealedExportError } from '../../transfer/sealed-export.ts';
import { CliError, type CliContext } from '../context.ts';
import { PASSPHRASE_OPTIONS, passphraseGiven, readPassphrase } from '../export-passphrase.ts';
import { fileProblem } from '../file-problem.ts';
import { shown, typed } from '../help.ts';
import { open } from 'node:fs/promises';
import { textDocument, type KeycloakExportDocument } from '../../keycloak/export-stream.ts';
import { findDuplicateMember, lostMembers, textBlocks } from '../../json/members.ts';
import type { KeycloakImportReport, ReportSink } from '../../keycloak/import-report.ts';
import type { KeycloakExportSource } from '../../operations/keycloak-import.ts';
import { cliActor, withOperations } from '../services.ts';

/**
 * Writes a file that is 0600 from its first byte (no window in which others could read it), piece
 * by piece; it appears under its name only once complete, and nothing is left behind on an error.
 */
async function writePrivate<T>(path: string, fill: (write: (piece: string) => void) => Promise<T>): Promise<T> {
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    let result: T;
    try {
      result = await fill((piece) => void writeSync(fd, piece));
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
    return result;
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

const UNENCRYPTED_WARNING = "holds password hashes, client secrets (applications' and upstream providers', with their private keys) and authenticator-app (TOTP) secrets in the clear (--unencrypted): keep it off shared and object storage, or export with --passphrase-file FILE / --passphrase-stdin";

/** gatehouse export --output FILE (--passphrase-file FILE | --passphrase-stdin | --unencrypted) */
export const exportCommand = command({ options: { output: { type: 'string', short: 'o' }, unencrypted: { type: 'boolean' }, ...PASSPHRASE_OPTIONS }, arguments: [{ name: 'FILE', or: 'output' }] }, async (ctx, { values, positionals }) => {
  const path = values.output ?? positionals[0];
  if (path === undefined) throw new CliError('--output FILE is required (the export holds password hashes and secrets; it is written with mode 0600)', EXIT.usage);
  // Secrets in the clear only when asked for by name: a script that meant to encrypt must not quietly write them readable.
  if (values.unencrypted === true && passphraseGiven(values)) throw new CliError('--unencrypted and a passphrase: give one of them', EXIT.usage);
  if (values.unencrypted !== true && !passphraseGiven(values)) {
    throw new CliError('say how the file is protected: --passphrase-file FILE or --passphrase-stdin (encrypted: argon2id and AES-256-GCM), or --unencrypted (password hashes, client and authenticator-app secrets in the clear)', EXIT.usage);
  }
  // Asked for before the database is opened: a mistyped passphrase costs nothing.
  const passphrase = await readPassphrase(ctx, values, 'export');
  const encrypted = passphrase !== undefined;
  // Written as the database is read (src/transfer/export-file.ts): neither the export nor its text is held whole.
  const counts = await withOperations(ctx, (ops) =>
    writePrivate(path, async (write) => {
      if (passphrase === undefined) return ops.transfer.export(cliActor(), { write, encrypted });
      const sealed = await sealExport(passphrase, write);
      const written = await ops.transfer.export(cliActor(), { write: (piece) => sealed.write(piece), encrypted });
      sealed.end();
      return written;
    }),
  );
  if (!encrypted) ctx.warn?.(`warning: ${shown(path)} ${UNENCRYPTED_WARNING}`);
  const protection = encrypted ? 'encrypted with the passphrase (argon2id, AES-256-GCM)' : 'NOT encrypted; it holds password hashes, client secrets (upstream providers\' too) and authenticator-app secrets';
  ctx.out(ctx.json ? JSON.stringify({ file: path, encrypted, ...counts }) : `exported to ${path} (mode 0600; ${protection}): ${JSON.stringify(counts)}`);
});

/** gatehouse import --input FILE [--passphrase-file FILE | --passphrase-stdin] [--dry-run] | gatehouse import --keycloak REALM_EXPORT|DIR [--dry-run] */
export const importCommand = command({ options: { input: { type: 'string', short: 'i' }, keycloak: { type: 'string' }, 'dry-run': { type: 'boolean', default: false }, api: { type: 'string' }, report: { type: 'string' }, 'no-realm-settings': { type: 'boolean', default: false }, ...PASSPHRASE_OPTIONS }, arguments: [{ name: 'FILE', optional: true, unless: ['input', 'keycloak'] }] }, async (ctx, { values, positionals }) => {
  // FILE, --input FILE or --keycloak EXPORT: one of them (an argument with two options that stand for it, said here).
  const given = [positionals[0] === undefined ? [] : ['FILE'], values.input === undefined ? [] : ['--input'], values.keycloak === undefined ? [] : ['--keycloak']].flat();
  if (given.length === 0) throw new CliError('FILE is required (or --input FILE; a Keycloak export: --keycloak REALM_EXPORT|DIR)', EXIT.usage);
  if (given.length > 1) throw new CliError(`${given.join(' and ')}: give one of them (FILE, --input FILE, or --keycloak REALM_EXPORT|DIR)`, EXIT.usage);
  if (values.keycloak !== undefined) {
    if (passphraseGiven(values)) throw new CliError('--passphrase-file and --passphrase-stdin go with an encrypted Gatehouse export (--input), not --keycloak', EXIT.usage);
    return importKeycloak(ctx, values.keycloak, { dryRun: values['dry-run'], api: values.api, reportFile: values.report, realmSettings: !values['no-realm-settings'] });
  }
  if (values.api !== undefined) throw new CliError('--api goes with --keycloak', EXIT.usage);
  if (values['no-realm-settings']) throw new CliError('--no-realm-settings goes with --keycloak', EXIT.usage);
  if (values.report !== undefined) throw new CliError('--report goes with --keycloak', EXIT.usage);
  const path = values.input ?? positionals[0];
  if (path === undefined) throw new CliError('FILE is required (or --input FILE)', EXIT.usage);
  let document: unknown;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
    document = JSON.parse(text) as unknown;
  } catch (error) {
    // Not JSON: name where it breaks (a copy cut short says so), as a Keycloak file's refusal does.
    if (error instanceof SyntaxError) throw await notJson(path, path);
    throw new CliError(`${typed(path)}: cannot read a JSON export (${fileProblem(error)})`, EXIT.usage);
  }
  // A member given twice (JSON.parse keeps the last): refused naming it and where, as a Keycloak file's is.
  await refuseDuplicateMembers(path, text, document, () => utf8Blocks(path)(path));
  const encrypted = isSealedExport(document);
  if (encrypted && !passphraseGiven(values)) throw new CliError(`${path} is an encrypted export: give its passphrase with --passphrase-file FILE or --passphrase-stdin`, EXIT.usage);
  // Whoever gives a passphrase counts on the file being the one they sealed: a clear file could be anyone's.
  if (!encrypted && passphraseGiven(values)) throw new CliError(`${path} is not encrypted, so nothing vouches that it is the export you sealed: nothing was imported (import it without a passphrase if you trust it)`, EXIT.usage);
  if (encrypted) document = await opened(path, document, (await readPassphrase(ctx, values, 'import'))!);
  if (values['dry-run']) {
    refuseUnstorableText(document);
    const counts = checkExport(document, new Date(systemClock.now()));
    const what = encrypted ? 'the passphrase opens it, nothing in it was changed, and its contents' : 'its contents';
    ctx.out(ctx.json ? JSON.stringify({ file: path, dry_run: true, encrypted, ...counts }) : `dry run (no database read or written): ${what} can be imported: ${JSON.stringify(counts)}`);
    return;
  }
  const summary = await withOperations(ctx, (ops) => ops.transfer.import(cliActor(), document, { encrypted }));
  if (ctx.json) return ctx.out(JSON.stringify(summary));
  ctx.out(`imported: ${JSON.stringify(summary)}`);
  // What was left as it is, said in words too (the summary holds them).
  for (const one of summary.settings.pinned) ctx.out(`  setting ${one.setting} pinned by ${one.variable}: left as the environment says, not the file's value`);
  for (const conflict of summary.conflicts) ctx.out(`  conflict: ${conflict.kind} ${conflict.name}: ${conflict.reason}`);
  if (summary.conflicts_total > summary.conflicts.length) ctx.out(`  … and ${summary.conflicts_total - summary.conflicts.length} more conflicts`);
});

/** The export inside an encrypted file, before anything is written: a wrong passphrase or a changed file stops the import here. */
async function opened(path: string, document: unknown, passphrase: string): Promise<unknown> {
  let text: string;
  try {
    text = await openSealedExport(document, passphrase);
  } catch (error) {
    if (!(error instanceof SealedExportError)) throw error;
    const usage = error.reason === 'malformed' || error.reason === 'unsupported';
    throw new CliError(`${path}: ${error.message}; nothing was imported`, usage ? EXIT.usage : EXIT.failure);
  }
  let opened: unknown;
  try {
    opened = JSON.parse(text) as unknown;
  } catch {
    throw new CliError(`${path}: it opened, but what it holds is not JSON; nothing was imported`, EXIT.failure);
  }
  await refuseDuplicateMembers(`${path} (opened)`, text, opened, () => textBlocks(text));
  return opened;
}

/**
 * Refuses a parsed export whose text gives a member twice in one object: JSON.parse kept the last,
 * and which one was meant would be a guess. The check costs a walk and a scan of what is already
 * in memory (no more heap than the parse held); only a file that fails it is read again, as a
 * stream, to name the member (`users.3.email`) and where its second name is.
 */
async function refuseDuplicateMembers(label: string, text: string, parsed: unknown, blocks: () => AsyncIterable<string>): Promise<void> {
  if (!lostMembers(text, parsed)) return;
  const duplicate = await findDuplicateMember(blocks);
  if (duplicate !== undefined) throw invalid(`${label}: ${duplicate.path}`, 'duplicate_member', { line: duplicate.line, column: duplicate.column });
}

/** How much of a file is read at a time (stream-json's own block size). */
const READ_BLOCK = 64 * 1024;

/**
 * A file's text a block at a time, decoded as UTF-8 strictly (JSON is UTF-8, RFC 8259 §8.1): a
 * leading byte-order mark is dropped, bytes that are not UTF-8 stop the read naming the file and
 * the block where they are — stream-json's own reader would turn them into U+FFFD, and a Latin-1
 * "José" would be imported as "Jos\uFFFD". A character split between blocks is carried over.
 */
function utf8Blocks(label: string): (path: string) => AsyncGenerator<string> {
  return async function* (path: string) {
    const file = await open(path);
    try {
      const decoder = new TextDecoder('utf-8', { fatal: true });
      const block = Buffer.allocUnsafe(READ_BLOCK);
      let offset = 0;
      for (;;) {
        const { bytesRead } = await file.read(block, 0, READ_BLOCK);
        let text: string;
        try {
          text = decoder.decode(block.subarray(0, bytesRead), { stream: bytesRead > 0 });
        } catch {
          throw new CliError(`${label}: is not UTF-8 text (bytes that are not UTF-8 between byte ${offset} and byte ${offset + bytesRead}); save it as UTF-8 — nothing was imported`, EXIT.usage);
        }
        if (text !== '') yield text;
        if (bytesRead === 0) return;
        offset += bytesRead;
      }
    } finally {
      await file.close();
    }
  };
}

/** The refusal of a file that is not JSON, naming where it breaks (read again, as a stream, to find it). */
async function notJson(path: string, label: string): Promise<Error> {
  const broken = await fileJsonBreak(path);
  if (broken === undefined) return new CliError(`${path}: changed while it was read; nothing was imported`, EXIT.usage);
  const reason = broken.cutShort ? 'the file ends there, before its JSON does: it was cut short (export or copy it again)' : broken.reason;
  return invalid(label, 'json_file_at', { line: broken.line, column: broken.column, reason });
}

/**
 * A JSON file of a Keycloak export, read as a stream each time the import reads it
 * (src/keycloak/export-stream.ts); `label` names it in messages. A file that cannot be read is a
 * usage error naming it; one that is not JSON — broken mid-way, or cut short — is refused naming
 * the file, the line and the column where it breaks.
 */
function keycloakFile(path: string, name: string, label = name): KeycloakExportDocument {
  return textDocument(name, {
    label,
    blocks: () => utf8Blocks(label)(path),
    async refuse(error) {
      if (error instanceof CliError) return error;
      if (error instanceof Error && 'code' in error && typeof error.code === 'string') return new CliError(`${typed(path)}: cannot read a realm export (${fileProblem(error)})`, EXIT.usage);
      return notJson(path, label);
    },
  });
}

const REALM_FILE = /^(.+)-realm\.json$/;
const USERS_FILE = /^(.+)-users-(\d+)\.json$/;

/**
 * A directory as `kc.sh export --dir DIR --realm R` writes it: `R-realm.json`, then (with
 * `--users different_files`, the default) `R-users-0.json`, `R-users-1.json`, … of
 * `--users-per-file` users each. Each file is read as a stream when the import comes to it
 * (src/operations/keycloak-import.ts), the users files in numeric order.
 */
function keycloakDirectory(dir: string): KeycloakExportSource & { readonly realmFile: string; readonly usersFiles: readonly KeycloakExportDocument[] } {
  const names = readdirSync(dir).sort();
  const realmFiles = names.filter((name) => REALM_FILE.test(name));
  if (realmFiles.length === 0) throw new CliError(`${dir}: no <realm>-realm.json in it; export with kc.sh export --dir ${dir} --realm REALM`, EXIT.usage);
  if (realmFiles.length > 1) throw new CliError(`${dir}: holds the realm files of several realms (${realmFiles.join(', ')}); import one realm at a time (kc.sh export --dir … --realm REALM writes one)`, EXIT.usage);
  const realmFile = realmFiles[0]!;
  const prefix = REALM_FILE.exec(realmFile)![1]!;
  const numbered: Array<{ name: string; n: number }> = [];
  for (const name of names) {
    const match = USERS_FILE.exec(name);
    if (match === null) continue;
    if (match[1] !== prefix) throw new CliError(`${join(dir, name)}: a users file of another realm than ${realmFile}; import one realm at a time`, EXIT.usage);
    numbered.push({ name, n: Number(match[2]) });
  }
  numbered.sort((a, b) => a.n - b.n);
  return {
    realm: keycloakFile(join(dir, realmFile), '', realmFile),
    realmFile,
    usersFiles: numbered.map(({ name }) => keycloakFile(join(dir, name), name)),
  };
}

/** Buffered lines written to `fd` a block at a time (the --report file: every user's entry, never held all at once). */
function lineWriter(fd: number): { line(value: unknown): void; flush(): void } {
  let pending: string[] = [];
  let size = 0;
  const flush = () => {
    if (pending.length > 0) writeSync(fd, pending.join(''));
    [pending, size] = [[], 0];
  };
  return {
    line(value) {
      const text = `${JSON.stringify(value)}\n`;
      pending.push(text);
      size += text.length;
      if (size >= 64 * 1024) flush();
    },
    flush,
  };
}

/**
 * The --report FILE of a Keycloak import: one JSON line per entry of the report (`{"list":
 * "users.created","name":"ada"}`, `{"list":"unmapped","kind":…,"name":…,"reason":…}`), written as
 * the import adds them, then a last line `{"list":"end","complete":true,…,"counts":{…}}` — or, when
 * the import stops on an error, `"complete":false` and the error: the lines before it are what was
 * applied. Mode 0600 from its first byte (it names users); it appears under its name when the import ends.
 */
async function withReportFile<T extends KeycloakImportReport>(path: string | undefined, run: (onEntry: ReportSink | undefined) => Promise<T>): Promise<T> {
  if (path === undefined) return run(undefined);
  const temporary = `${path}.${process.pid}.tmp`;
  let fd: number;
  try {
    fd = openSync(temporary, 'wx', 0o600);
  } catch (error) {
    throw new CliError(`--report ${path}: cannot write it (${error instanceof Error ? error.message : String(error)}); nothing was imported`, EXIT.usage);
  }
  const out = lineWriter(fd);
  try {
    const report = await run((entry) => out.line(entry));
    out.line({ list: 'end', complete: true, realm: report.realm, dryRun: report.dryRun, counts: report.counts });
    return report;
  } catch (error) {
    out.line({ list: 'end', complete: false, error: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    out.flush();
    closeSync(fd);
    renameSync(temporary, path);
  }
}

/** `names`, and how many more there are than it shows (the report keeps the first REPORT_SAMPLE of a list). */
function listed(names: readonly string[], count: number): string {
  return `${names.join(', ')}${count > names.length ? ` and ${count - names.length} more` : ''}`;
}

interface KeycloakCliOptions {
  readonly dryRun: boolean;
  readonly api: string | undefined;
  readonly reportFile: string | undefined;
  readonly realmSettings: boolean;
}

/** gatehouse import --keycloak REALM_EXPORT|DIR [--dry-run] [--api URI] [--report FILE] [--no-realm-settings]: a Keycloak realm export (kc.sh export), or a kc.sh export --dir directory. */
async function importKeycloak(ctx: CliContext, path: string, { dryRun, api, reportFile, realmSettings }: KeycloakCliOptions): Promise<void> {
  // Before anything, the dry run too: the admin API's rule for ?api=, named as typed (the import itself would name `identifier`).
  // Loaded here, not with the module: it brings the import and its stores' models, which a line refused for a bad flag must not load (cli-start-loads).
  const { keycloakImportQuerySchema } = await import('../../operations/keycloak-import.ts');
  if (!keycloakImportQuerySchema.shape.api.safeParse(api).success) throw invalid('--api', 'uri_example');
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    throw new CliError(`${typed(path)}: cannot read a realm export (${fileProblem(error)})`, EXIT.usage);
  }
  const source = isDirectory ? keycloakDirectory(path) : { realm: keycloakFile(path, '', path) };
  const report = await withOperations(ctx, (ops) => withReportFile(reportFile, (onEntry) => ops.keycloak.import(cliActor(), source, { dryRun, api, onEntry, realmSettings })));
  if (ctx.json) {
    ctx.out(JSON.stringify(report));
    return;
  }
  const { counts } = report;
  const more = reportFile === undefined ? ' (--report FILE lists them all)' : ` (${reportFile} lists them all)`;
  const count = (kind: { created: number; updated: number }) => `${kind.created} new, ${kind.updated} updated`;
  ctx.out(`${dryRun ? 'dry run (nothing written) for' : 'imported'} Keycloak realm ${report.realm}:`);
  if ('realmFile' in source) {
    const files = source.usersFiles.map((file) => file.name);
    ctx.out(`  from ${source.realmFile} and ${files.length} users file${files.length === 1 ? '' : 's'}${files.length === 0 ? '' : ` (${files.length <= 3 ? files.join(', ') : `${files[0]} … ${files.at(-1)}`})`}`);
  }
  if (report.api !== undefined) ctx.out(`  API ${report.api.identifier} (Keycloak-shaped tokens, every imported client's default): ${report.api.created ? 'new' : 'existing'}`);
  else if (counts.clients.created + counts.clients.updated > 0) {
    // A first-hour walk: keycloak-js failed with "Unable to decode token" and nothing here had said why.
    ctx.out("  no --api: the clients' access tokens are opaque (Keycloak's are JWTs) — keycloak-js and APIs that read the access token need --api URI (README, Migrating from Keycloak)");
  }
  ctx.out(`  roles: ${count(counts.roles)}; groups: ${count(counts.groups)}; clients: ${count(counts.clients)}; users: ${count(counts.users)}`);
  if (counts.claimScopes.created + counts.claimScopes.updated > 0) ctx.out(`  client scopes → claim scopes: ${count(counts.claimScopes)} (${listed([...report.claimScopes.created, ...report.claimScopes.updated], counts.claimScopes.created + counts.claimScopes.updated)})`);
  for (const [clientId, uris] of Object.entries(report.nativeClients)) ctx.out(`  client ${clientId} → native app (application_type native, RFC 8252): ${uris.join(', ')}`);
  for (const { client, roles } of report.serviceAccounts) ctx.out(`  client ${client}: service account's roles → service_account_roles (in its client_credentials tokens): ${roles.join(', ') || 'none'}`);
  if (counts.serviceAccounts > report.serviceAccounts.length) ctx.out(`  … and ${counts.serviceAccounts - report.serviceAccounts.length} more service accounts${more}`);
  ctx.out(`  kept password hashes: ${Object.entries(report.passwordAlgorithms).map(([algorithm, n]) => `${algorithm} ${n}`).join(', ') || 'none'} (re-hashed to argon2id at each user's first sign-in)`);
  if (counts.passwordsKept > 0) ctx.out(`  passwords already changed or upgraded in Gatehouse, kept (${counts.passwordsKept}): ${listed(report.passwordsKept, counts.passwordsKept)}`);
  if (counts.disabledKept > 0) ctx.out(`  users Keycloak has enabled, disabled in Gatehouse, kept disabled (${counts.disabledKept}): ${listed(report.disabledKept, counts.disabledKept)} — enable them with gatehouse users enable`);
  const { totp } = counts;
  if (totp.imported + totp.unchanged + totp.kept > 0) {
    ctx.out(`  authenticator apps (TOTP): ${totp.imported} taken over, ${totp.unchanged} already there${totp.kept > 0 ? `, ${totp.kept} kept (enrolled in Gatehouse since: ${listed(report.totp.kept, totp.kept)})` : ''}`);
  }
  const { upstream } = report;
  if (counts.upstream.created + counts.upstream.updated > 0) {
    ctx.out(`  identity providers → upstream providers: ${count(counts.upstream)}; federated identities → links: ${upstream.links.created} new, ${upstream.links.unchanged} already there`);
    for (const [alias, mapped] of Object.entries(upstream.mapped)) ctx.out(`    ${alias}: ${mapped.join('; ')}`);
    if (counts.upstream.secretsToSet > 0) {
      ctx.out(`  imported disabled until their client secret is set (gatehouse idps update ALIAS --client-secret-stdin --enabled): ${listed(upstream.secretsToSet, counts.upstream.secretsToSet)}`);
    }
  }
  const { changed, pinned, imported } = report.settings;
  // Runtime settings are live for every instance: say plainly which the import changes (or would), and how to keep them.
  if (!realmSettings) ctx.out("  realm settings left out (--no-realm-settings): Gatehouse's runtime settings stay as they are");
  else if (imported && changed.length === 0) ctx.out(`  runtime settings: none ${dryRun ? 'would change' : 'changed'} (those the realm sets are already its values)`);
  else if (changed.length > 0) {
    ctx.out(dryRun
      ? '  runtime settings the import would change, live on every instance at once (--no-realm-settings leaves them as they are):'
      : '  runtime settings changed, live on every instance (gatehouse settings get shows them):');
  }
  for (const change of changed) ctx.out(`    ${change.setting}: ${JSON.stringify(change.from)} → ${JSON.stringify(change.to)} (${change.keycloak})${change.note === undefined ? '' : `; ${change.note}`}`);
  for (const one of pinned) ctx.out(`  setting ${one.setting} pinned by ${one.variable}: stays ${JSON.stringify(one.value)}, not the realm's ${JSON.stringify(one.keycloakValue)} (${one.keycloak}); unset the variable to manage it at runtime`);
  for (const conflict of report.conflicts) ctx.out(`  conflict: ${'user' in conflict ? conflict.user : `${conflict.kind} ${conflict.name}`}: ${conflict.reason}`);
  if (counts.conflicts > report.conflicts.length) ctx.out(`  … and ${counts.conflicts - report.conflicts.length} more conflicts${more}`);
  if (counts.refusedUsers > 0) ctx.out(`  users refused (the admin API refuses them too; the others are imported): ${counts.refusedUsers}`);
  for (const refused of report.refusedUsers) ctx.out(`    ${refused.user}: ${refused.reason}`);
  if (counts.refusedUsers > report.refusedUsers.length) ctx.out(`    … and ${counts.refusedUsers - report.refusedUsers.length} more${more}`);
  if (counts.builtInClients > 0) ctx.out(`  Keycloak's built-in clients, skipped on purpose (Gatehouse has its own console, account page and admin API): ${listed(report.builtInClients, counts.builtInClients)}`);
  if (report.unmapped.length > 0) ctx.out('not mapped:');
  const kinds = new Map<string, number>();
  for (const item of report.unmapped) {
    ctx.out(`  ${item.kind} ${item.name}: ${item.reason}`);
    kinds.set(item.kind, (kinds.get(item.kind) ?? 0) + 1);
  }
  for (const [kind, n] of Object.entries(counts.unmapped)) {
    const left = n - (kinds.get(kind) ?? 0);
    if (left > 0) ctx.out(`  … and ${left} more of kind ${kind}${more}`);
  }
  if (reportFile !== undefined) ctx.out(`  every entry, one JSON line each: ${reportFile}`);
}
