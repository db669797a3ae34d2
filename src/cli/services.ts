import { userInfo } from 'node:os';
import { openEmailVerifications } from '../accounts/email-verifications.ts';
import { dateClock } from '../clock.ts';
import { accountMail, addressVerification } from '../composition/account-mail.ts';
import { closeStores, composeCore, openStores, type Core } from '../composition/core.ts';
import { openViews } from '../composition/pages.ts';
import type { Locale } from '../interactions/i18n.ts';
import { createMailService } from '../mail/mail-service.ts';
import { createMailer } from '../mail/mailer.ts';
import { smtpTransport } from '../mail/smtp-transport.ts';
import { createLogger } from '../observability/logger.ts';
import type { OperationContext } from '../operations/context.ts';
import { createOperations, type Operations } from '../operations/index.ts';
import type { VerificationSender } from '../operations/users.ts';
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
 * Runs one command against the same composition the server runs (src/composition/core.ts, in
 * `command` mode: changes are announced to running servers over Redis when configured, no
 * background work) through the same operations as the admin API.
 */
export function withOperations<T>(ctx: CliContext, run: (ops: Operations) => Promise<T>): Promise<T> {
  return withCore(ctx, async (core) => {
    const mail = await cliAccountMail(ctx, core);
    try {
      return await run(createOperations({ services: core.services, keys: core.keys, issuer: ctx.config.issuer, emailConfigured: ctx.config.mail !== undefined, verification: mail?.sender }));
    } finally {
      await mail?.finish();
    }
  });
}

/** A retry of a mail the SMTP server refused for now, then the command gives up on it (it cannot wait minutes as the server does). */
const CLI_MAIL_RETRY_MS = [2_000];

/**
 * With GATEHOUSE_SMTP_URL, the mail the server sends about an account change (src/composition/
 * account-mail.ts: the new address's link, the notice to the previous one) goes from the CLI
 * too. The command waits until it was delivered (or refused) before it ends — the queue lives
 * in this process — and says on standard error what could not be delivered.
 */
async function cliAccountMail(ctx: CliContext, core: Core): Promise<{ sender: VerificationSender; finish(): Promise<void> } | undefined> {
  const { config } = ctx;
  if (config.mail === undefined) return undefined;
  const views = openViews({ config });
  const failed: string[] = [];
  const mailer = createMailer({
    transport: smtpTransport(config.mail),
    from: config.mail.from,
    logger: createLogger('silent'),
    onDelivery: (kind, outcome) => void (outcome === 'failed' && failed.push(kind)),
    retryDelaysMs: CLI_MAIL_RETRY_MS,
  });
  const mail = createMailService<Locale>({ mailer, render: (name, locale, model) => views.renderMail(name, locale, model) });
  const { accounts } = core.accountLayer;
  const verifications = await openEmailVerifications({ mongo: core.stores.mongo, ttlSeconds: async () => (await core.services.signInSettings.current()).email_verification_ttl, now: core.services.clock.now });
  const verification = addressVerification({ config, services: core.services, accounts, audit: core.audit, verifications, mail });
  return {
    sender: accountMail({ accounts, views, verification, mail, now: dateClock(core.services.clock) }),
    async finish() {
      await mail.idle();
      await mail.close();
      for (const kind of failed) ctx.warn?.(`warning: the ${kind.replace(/_/g, ' ')} email could not be delivered (GATEHOUSE_SMTP_URL); the change itself was made`);
    },
  };
}

/** The composition itself, for scripts that seed data (scripts/dev-seed.ts); commands use withOperations. */
export async function withCore<T>(ctx: CliContext, run: (core: Core) => Promise<T>): Promise<T> {
  const stores = await openStores(ctx.config);
  try {
    const core = await composeCore(ctx.config, createLogger('silent'), stores, { mode: 'command' });
    try {
      return await run(core);
    } finally {
      await core.close();
    }
  } finally {
    await closeStores(stores);
  }
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
