import { fileURLToPath } from 'node:url';
import type { Locale } from '../interactions/i18n.ts';
import { createViews, type Views } from '../interactions/views.ts';
import { createMailService, type MailService } from '../mail/mail-service.ts';
import { createMailer } from '../mail/mailer.ts';
import { smtpTransport } from '../mail/smtp-transport.ts';
import { StartupError } from './core.ts';
import type { Wiring } from './wiring.ts';

const VIEWS_DIRECTORY = fileURLToPath(new URL('../../views', import.meta.url));

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The hosted pages' templates (with the operator's overrides) and brand. */
export function openViews({ config }: Pick<Wiring, 'config'>): Views {
  const { brandName, logoUrl, primaryColor, supportUrl, viewsDir } = config.pages;
  try {
    const { interaction, assets } = config.routes;
    return createViews({ directory: VIEWS_DIRECTORY, overrides: viewsDir, brand: { name: brandName, logoUrl, primaryColor, supportUrl }, paths: { interaction, assets } });
  } catch (error) {
    throw new StartupError('GATEHOUSE_VIEWS_DIR', `cannot load the hosted pages' templates (${reason(error)})`);
  }
}

/** Email through GATEHOUSE_SMTP_URL, rendered from views/mail; undefined without SMTP. */
export function openMail(w: Wiring, views: Views): MailService<Locale> | undefined {
  const { config, logger, metrics } = w;
  if (config.mail === undefined) return undefined;
  const mailer = createMailer({
    transport: smtpTransport(config.mail),
    from: config.mail.from,
    logger,
    onDelivery: (kind, outcome) => metrics.mailDelivery(kind, outcome),
  });
  const mail = createMailService<Locale>({ mailer, render: (name, locale, model) => views.renderMail(name, locale, model) });
  w.onClose(() => mail.close());
  return mail;
}
