import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { Secret } from '../../src/config/secret.ts';
import { LOCALES, type Locale } from '../../src/interactions/i18n.ts';
import { createViews } from '../../src/interactions/views.ts';
import { createMailService } from '../../src/mail/mail-service.ts';
import { createMailer, type MailOutcome } from '../../src/mail/mailer.ts';
import { smtpTransport } from '../../src/mail/smtp-transport.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';

const views = createViews({
  directory: fileURLToPath(new URL('../../views', import.meta.url)),
  brand: { name: 'Acme', logoUrl: undefined, primaryColor: '#0a7e3d', supportUrl: undefined },
});
const LINK = 'https://sso.example.com/password/reset/AbC_token-123';

/** Retries run when the test says so, not after a real delay. */
function manualTimers() {
  const queued: Array<() => void> = [];
  return {
    schedule: (run: () => void) => {
      queued.push(run);
      return { cancel: () => queued.splice(queued.indexOf(run), 1) };
    },
    delays: () => queued.length,
    runNext: () => queued.shift()!(),
  };
}

describe('email over SMTP', () => {
  let inbox: Inbox;
  before(async () => {
    inbox = await startInbox();
  });
  after(() => inbox.close());

  function build(options: { retryDelaysMs?: number[]; url?: string; timeoutMs?: number } = {}) {
    const logs = captureLogs('info');
    const metrics = createMetrics();
    const outcomes: MailOutcome[] = [];
    const timers = manualTimers();
    const mailer = createMailer({
      transport: smtpTransport({ smtpUrl: new Secret(options.url ?? inbox.url), from: 'Acme <no-reply@acme.example>', timeoutMs: options.timeoutMs ?? 5000 }),
      from: 'Acme <no-reply@acme.example>',
      logger: logs.logger,
      onDelivery: (kind, outcome) => {
        outcomes.push(outcome);
        metrics.mailDelivery(kind, outcome);
      },
      retryDelaysMs: options.retryDelaysMs ?? [1000],
      schedule: timers.schedule,
    });
    const mail = createMailService<Locale>({ mailer, render: (name, locale, model) => views.renderMail(name, locale, model) });
    return { mail, logs, metrics, outcomes, timers };
  }

  it('delivers a localized message with an HTML and a plain-text part, in every locale', async () => {
    const { mail, metrics } = build();
    for (const locale of LOCALES) {
      await mail.send('password_reset', `ann+${locale}@example.com`, locale, { name: 'Ann <b>', link: LINK, minutes: '30' });
      const received = await inbox.next();
      expect(received.to && 'text' in received.to ? received.to.text : '').to.equal(`ann+${locale}@example.com`);
      expect(received.from?.value[0]).to.include({ name: 'Acme', address: 'no-reply@acme.example' });
      expect(received.subject).to.equal(views.translate(locale)('mail.password_reset.subject'));
      expect(received.text).to.contain(LINK).and.contain('Ann <b>').and.contain('30');
      expect(received.html).to.be.a('string').and.contain(`href="${LINK}"`).and.contain('Ann &lt;b&gt;').and.contain(`lang="${locale}"`);
    }
    await mail.idle();
    expect(await metrics.registry.getSingleMetricAsString('gatehouse_mail_deliveries_total')).to.contain(
      'gatehouse_mail_deliveries_total{kind="password_reset",outcome="sent"} 4',
    );
    await mail.close();
  });

  it('retries in the background after a temporary refusal, logging neither the content nor the recipient', async () => {
    const { mail, logs, outcomes, timers, metrics } = build({ retryDelaysMs: [1000] });
    inbox.refuseNext(1);
    await mail.send('password_changed', 'bob@example.com', 'ko', { name: 'Bob' });
    while (timers.delays() === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(outcomes).to.deep.equal(['retry']);
    expect(inbox.refused).to.equal(1);
    timers.runNext();
    const received = await inbox.next();
    expect(received.subject).to.equal('비밀번호가 변경되었습니다');
    await mail.idle();
    expect(outcomes).to.deep.equal(['retry', 'sent']);
    const metric = await metrics.registry.getSingleMetricAsString('gatehouse_mail_deliveries_total');
    expect(metric).to.contain('kind="password_changed",outcome="retry"} 1').and.contain('kind="password_changed",outcome="sent"} 1');
    const retryLine = logs.lines().find((line) => line.msg === 'mail not delivered; will retry');
    expect(retryLine).to.include({ mail: 'password_changed', domain: 'example.com', attempt: 1 });
    expect(logs.text()).not.to.contain('bob@').and.not.to.contain('Bob');
    await mail.close();
  });

  it('gives up after the last retry, logs an error and counts the failure', async () => {
    const { mail, logs, outcomes, timers } = build({ retryDelaysMs: [1000] });
    inbox.refuseNext(2);
    await mail.send('password_reset', 'cy@example.com', 'en', { name: 'Cy', link: LINK, minutes: '30' });
    while (timers.delays() === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    timers.runNext();
    await mail.idle();
    expect(outcomes).to.deep.equal(['retry', 'failed']);
    expect(logs.lines().filter((line) => line.msg === 'mail not delivered; giving up')).to.have.length(1);
    expect(logs.text()).not.to.contain('AbC_token');
    await mail.close();
  });

  describe('a server that accepts connections and never answers', () => {
    let silent: Server;
    const sockets: Array<{ destroy(): void }> = [];
    before(async () => {
      silent = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });
    after(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('does not hold up the caller: send returns at once and the attempt ends at the timeout', async () => {
      const { port } = silent.address() as AddressInfo;
      const { mail, outcomes } = build({ url: `smtp://127.0.0.1:${port}`, timeoutMs: 300, retryDelaysMs: [] });
      let sent = false;
      const sending = mail.send('password_reset', 'dee@example.com', 'en', { name: 'Dee', link: LINK, minutes: '30' }).then(() => {
        sent = true;
      });
      await sending;
      expect(sent).to.equal(true);
      expect(outcomes).to.deep.equal([]);
      await mail.idle();
      expect(outcomes).to.deep.equal(['failed']);
      await mail.close();
    });
  });
});

describe('mail settings', () => {
  const base = { GATEHOUSE_ISSUER: 'https://sso.example.com', MONGODB_URI: 'mongodb://db/gh', GATEHOUSE_SECRET: 'x'.repeat(40) };
  const files = new Map([['/run/secrets/smtp', 'smtps://user:p4ss@mail.example.com:465\n']]);
  const readFile = (path: string) => {
    const content = files.get(path);
    if (content === undefined) throw new Error(`ENOENT: ${path}`);
    return content;
  };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ env, readFile });
    } catch (error) {
      if (error instanceof ConfigError) return [...error.problems];
      throw error;
    }
    return [];
  };

  it('is off without GATEHOUSE_SMTP_URL', () => {
    expect(loadConfig({ env: base, readFile }).mail).to.equal(undefined);
  });

  it('reads the SMTP URL from GATEHOUSE_SMTP_URL_FILE and never prints it', () => {
    const config = loadConfig({ env: { ...base, GATEHOUSE_SMTP_URL_FILE: '/run/secrets/smtp', GATEHOUSE_MAIL_FROM: 'no-reply@example.com' }, readFile });
    expect(config.mail?.smtpUrl.reveal()).to.equal('smtps://user:p4ss@mail.example.com:465');
    expect(config.mail?.timeoutMs).to.equal(10_000);
    expect(inspect(config, { depth: 5 })).not.to.contain('p4ss');
    expect(JSON.stringify(config)).not.to.contain('p4ss');
  });

  it('names the setting that is wrong', () => {
    expect(problems({ ...base, GATEHOUSE_SMTP_URL: 'smtp://mail.example.com' })).to.deep.equal([
      'GATEHOUSE_MAIL_FROM: is required with GATEHOUSE_SMTP_URL (the From: address of every email)',
    ]);
    expect(problems({ ...base, GATEHOUSE_SMTP_URL: 'http://mail.example.com', GATEHOUSE_MAIL_FROM: 'a@b.c' })[0]).to.match(/^GATEHOUSE_SMTP_URL: must be an smtp:\/\//);
  });
});
