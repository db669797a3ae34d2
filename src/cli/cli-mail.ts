import { openEmailVerifications } from '../accounts/email-verifications.ts';
import { dateClock } from '../clock.ts';
import { accountMail, addressVerification, invitationMail } from '../composition/account-mail.ts';
import type { InvitationSender } from '../accounts/invitations.ts';
import type { Core } from '../composition/core.ts';
import { openViews } from '../composition/pages.ts';
import type { MailSettings } from '../config/load.ts';
import type { Locale } from '../interactions/i18n.ts';
import { createMailService } from '../mail/mail-service.ts';
import { createMailer } from '../mail/mailer.ts';
import { smtpTransport } from '../mail/smtp-transport.ts';
import { createLogger } from '../observability/logger.ts';
import type { VerificationSender } from '../operations/users.ts';
import type { CliContext } from './context.ts';

/** A retry of a mail the SMTP server refused for now, then the command gives up on it (it cannot wait minutes as the server does). */
const CLI_MAIL_RETRY_MS = [2_000];

/**
 * With GATEHOUSE_SMTP_URL, the mail the server sends about an account change (src/composition/
 * account-mail.ts: the new address's link, the notice to the previous one) goes from the CLI
 * too. The command waits until it was delivered (or refused) before it ends — the queue lives
 * in this process — and says on standard error what could not be delivered.
 */
export async function cliAccountMail(ctx: CliContext, core: Core, settings: MailSettings): Promise<{ sender: VerificationSender; invitations: InvitationSender | undefined; finish(): Promise<void> }> {
  const { config } = ctx;
  const views = openViews({ config });
  const failed: string[] = [];
  const mailer = createMailer({
    transport: smtpTransport(settings),
    from: settings.from,
    logger: createLogger('silent'),
    onDelivery: (kind, outcome) => void (outcome === 'failed' && failed.push(kind)),
    retryDelaysMs: CLI_MAIL_RETRY_MS,
  });
  const mail = createMailService<Locale>({ mailer, render: (name, locale, model) => views.renderMail(name, locale, model) });
  const { accounts } = core.accountLayer;
  const verifications = await openEmailVerifications({ mongo: core.stores.mongo, ttlSeconds: async () => (await core.services.signInSettings.current()).email_verification_ttl, now: core.services.clock.now });
  const verification = addressVerification({ config, services: core.services, accounts, audit: core.audit, verifications, mail });
  const { sender: invitations } = await invitationMail({ config, services: core.services, accounts, views, mongo: core.stores.mongo, mail, now: core.services.clock.now });
  return {
    sender: accountMail({ accounts, views, verification, mail, now: dateClock(core.services.clock) }),
    invitations,
    async finish() {
      await mail.idle();
      await mail.close();
      for (const kind of failed) ctx.warn?.(`warning: the ${kind.replace(/_/g, ' ')} email could not be delivered (GATEHOUSE_SMTP_URL); the change itself was made`);
    },
  };
}
