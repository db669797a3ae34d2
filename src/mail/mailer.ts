import type { Logger } from '../observability/logger.ts';

/** A rendered email (src/mail/templates.ts); `kind` names it in logs and metrics, never its content. */
export interface OutgoingMail {
  readonly kind: MailKind;
  readonly to: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export const MAIL_KINDS = ['password_reset', 'password_changed', 'email_verification', 'registration_exists', 'email_changed', 'invitation'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

/** What nodemailer's transport offers that the mailer uses (src/mail/smtp-transport.ts). */
export interface MailTransport {
  sendMail(message: { from: string; to: string; subject: string; html: string; text: string }): Promise<unknown>;
  close(): void;
}

export type MailOutcome = 'sent' | 'retry' | 'failed';

export interface Mailer {
  /** Queues the mail and returns at once: a page never waits for the SMTP server. */
  send(mail: OutgoingMail): void;
  /** Resolves when no delivery is in flight or waiting for a retry (shutdown, tests). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface MailerDeps {
  readonly transport: MailTransport;
  readonly from: string;
  readonly logger: Logger;
  readonly onDelivery: (kind: MailKind, outcome: MailOutcome) => void;
  /** Wait before each further attempt; its length is the number of retries. */
  readonly retryDelaysMs?: readonly number[];
  /** Timer seam: tests run retries without waiting. */
  readonly schedule?: (run: () => void, ms: number) => { cancel(): void };
}

const DEFAULT_RETRY_DELAYS_MS = [30_000, 120_000, 600_000];

const realSchedule = (run: () => void, ms: number) => {
  const timer = setTimeout(run, ms);
  timer.unref();
  return { cancel: () => clearTimeout(timer) };
};

/** The domain only: enough to tell deliveries apart in a log without recording who was written to. */
const recipientDomain = (to: string) => to.slice(to.lastIndexOf('@') + 1).toLowerCase();

/**
 * Background delivery with bounded retries. Each attempt is bounded by the transport's own
 * timeouts; failures are logged (kind, attempt, reason — never the content) and counted.
 * The queue lives in this process: a restart drops mail still waiting for a retry.
 */
export function createMailer(deps: MailerDeps): Mailer {
  const delays = deps.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const schedule = deps.schedule ?? realSchedule;
  const waiting = new Set<{ cancel(): void }>();
  let inFlight = 0;
  let closed = false;
  let waiters: Array<() => void> = [];

  const settle = () => {
    if (inFlight > 0 || waiting.size > 0) return;
    const done = waiters;
    waiters = [];
    for (const resolve of done) resolve();
  };

  function attempt(mail: OutgoingMail, number: number): void {
    inFlight += 1;
    deps.transport
      .sendMail({ from: deps.from, to: mail.to, subject: mail.subject, html: mail.html, text: mail.text })
      .then(
        () => {
          deps.onDelivery(mail.kind, 'sent');
          deps.logger.info({ mail: mail.kind, domain: recipientDomain(mail.to), attempt: number }, 'mail sent');
        },
        (error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          const delay = delays[number - 1];
          if (delay === undefined || closed) {
            deps.onDelivery(mail.kind, 'failed');
            deps.logger.error({ mail: mail.kind, domain: recipientDomain(mail.to), attempt: number, reason }, 'mail not delivered; giving up');
            return;
          }
          deps.onDelivery(mail.kind, 'retry');
          deps.logger.warn({ mail: mail.kind, domain: recipientDomain(mail.to), attempt: number, reason, retryInMs: delay }, 'mail not delivered; will retry');
          const timer = schedule(() => {
            waiting.delete(timer);
            if (!closed) attempt(mail, number + 1);
            settle();
          }, delay);
          waiting.add(timer);
        },
      )
      .finally(() => {
        inFlight -= 1;
        settle();
      });
  }

  return {
    send(mail) {
      if (closed) throw new Error('the mailer is closed');
      attempt(mail, 1);
    },
    idle() {
      return inFlight === 0 && waiting.size === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
    },
    async close() {
      closed = true;
      for (const timer of waiting) timer.cancel();
      waiting.clear();
      settle();
      deps.transport.close();
    },
  };
}
