import type { Mailer, MailKind } from './mailer.ts';

/** What a template renders to (the hosted pages' views render it: views.renderMail). */
export interface RenderedMail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

/** The email features' one entry point; undefined where GATEHOUSE_SMTP_URL is unset. */
export interface MailService<L extends string = string> {
  /** Renders the kind's templates in `locale` and queues the mail; never waits for the SMTP server. */
  send(kind: MailKind, to: string, locale: L, model: Readonly<Record<string, unknown>>): Promise<void>;
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface MailServiceDeps<L extends string> {
  readonly mailer: Mailer;
  readonly render: (name: string, locale: L, model: Readonly<Record<string, unknown>>) => Promise<RenderedMail>;
}

export function createMailService<L extends string>({ mailer, render }: MailServiceDeps<L>): MailService<L> {
  return {
    async send(kind, to, locale, model) {
      const mail = await render(kind, locale, model);
      mailer.send({ kind, to, ...mail });
    },
    idle: () => mailer.idle(),
    close: () => mailer.close(),
  };
}
