import type { Locale } from '../interactions/i18n.ts';
import type { RenderedMail } from '../interactions/views.ts';
import type { Mailer, MailKind } from './mailer.ts';

/** The email features' one entry point; undefined where GATEHOUSE_SMTP_URL is unset. */
export interface MailService {
  /** Renders the kind's templates in `locale` and queues the mail; never waits for the SMTP server. */
  send(kind: MailKind, to: string, locale: Locale, model: Readonly<Record<string, unknown>>): Promise<void>;
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface MailServiceDeps {
  readonly mailer: Mailer;
  readonly render: (name: string, locale: Locale, model: Readonly<Record<string, unknown>>) => Promise<RenderedMail>;
}

export function createMailService({ mailer, render }: MailServiceDeps): MailService {
  return {
    async send(kind, to, locale, model) {
      const mail = await render(kind, locale, model);
      mailer.send({ kind, to, ...mail });
    },
    idle: () => mailer.idle(),
    close: () => mailer.close(),
  };
}
