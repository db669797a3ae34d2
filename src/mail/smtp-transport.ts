import type { MailSettings } from '../config/load.ts';
import type { MailTransport } from './mailer.ts';

/**
 * nodemailer's SMTP transport from GATEHOUSE_SMTP_URL: smtp:// (STARTTLS when the server offers
 * it) or smtps:// (implicit TLS), credentials in the URL. The URL is taken apart here because
 * nodemailer's createTransport ignores every other option when it is given a `url`, and every
 * phase of an attempt must be bounded by GATEHOUSE_SMTP_TIMEOUT (a slow server costs a retry,
 * never a hanging page). nodemailer itself (35 modules, ≈ 2 MiB of a server's live heap) loads at
 * the first mail, not at the start: an instance that only answers tokens never loads it
 * (docs/PERFORMANCE.md, perf23h).
 */
export function smtpTransport(settings: MailSettings): MailTransport {
  const url = new URL(settings.smtpUrl.reveal());
  const timeout = settings.timeoutMs;
  const options = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    ...(url.port === '' ? {} : { port: Number(url.port) }),
    secure: url.protocol === 'smtps:',
    ...(url.username === '' ? {} : { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    dnsTimeout: timeout,
  };
  let transport: Promise<MailTransport> | undefined;
  let closed = false;
  const made = () => (transport ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport(options)));
  return {
    async sendMail(message) {
      return (await made()).sendMail(message);
    },
    close() {
      if (closed) return;
      closed = true;
      // Only a transport a mail made has connections to close.
      void transport?.then((made) => made.close(), () => {});
    },
  };
}
