// Development only (scripts/dev starts it, never the server): a local mail catcher, like MailHog
// or Mailpit without Docker. An SMTP server on 127.0.0.1 (the smtp-server package, a development
// dependency the test suite's inbox uses too) that delivers nothing: every mail Gatehouse sends —
// password reset and "password changed", email confirmation — is printed on the terminal (recipient,
// subject, text with its links and codes) and kept as an .eml file under $GATEHOUSE_DEV_DATA/mail.
//
// The first line on standard output is the SMTP URL to send to (scripts/dev reads it into
// GATEHOUSE_SMTP_URL); everything after goes to standard error. Port: GATEHOUSE_DEV_SMTP_PORT,
// else any free one.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

if (process.env.NODE_ENV === 'production') {
  process.stderr.write('dev-mail: refusing to run with NODE_ENV=production (it is a development mail catcher)\n');
  process.exit(78);
}

const folder = join(process.env.GATEHOUSE_DEV_DATA ?? '.data', 'mail');
mkdirSync(folder, { recursive: true });
let count = 0;

const addresses = (value: AddressObject | AddressObject[] | undefined): string =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value]).flatMap((entry) => entry.value.map((address) => address.address ?? '')).join(', ');

/** The mail as a developer wants to read it on the terminal: who, what, and the text with its links. */
function shown(mail: ParsedMail, file: string): string {
  const text = (mail.text ?? '').trim();
  // An HTML-only mail: at least its links.
  const links = text === '' ? [...new Set([...String(mail.html || '').matchAll(/href="([^"]+)"/g)].map((match) => match[1]!.replace(/&amp;/g, '&')))] : [];
  const body = (text === '' ? links : text.split(/\r?\n/)).map((line) => `      ${line}`.trimEnd());
  return ['', `  dev mail → ${addresses(mail.to)}  "${mail.subject ?? ''}"  (${file})`, ...body, ''].join('\n');
}

const server = new SMTPServer({
  authOptional: true,
  // A mail larger than this is refused at MAIL FROM / DATA (Gatehouse's own mails are a few KiB).
  size: 10 * 1024 * 1024,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, _session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      if (!stream.sizeExceeded) chunks.push(chunk);
    });
    stream.on('end', () => {
      if (stream.sizeExceeded) {
        callback(Object.assign(new Error('message exceeds the fixed maximum message size'), { responseCode: 552 }));
        return;
      }
      const raw = Buffer.concat(chunks);
      count += 1;
      const file = join(folder, `${new Date().toISOString().replace(/[:.]/g, '-')}-${count}.eml`);
      writeFileSync(file, raw);
      simpleParser(raw).then(
        (mail) => {
          process.stderr.write(`${shown(mail, file)}\n`);
          callback();
        },
        (error: Error) => callback(error),
      );
    });
  },
});

server.listen(Number(process.env.GATEHOUSE_DEV_SMTP_PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.server.address() as AddressInfo;
  process.stdout.write(`smtp://127.0.0.1:${port}\n`);
});
server.on('error', (error) => {
  process.stderr.write(`dev-mail: ${error.message}\n`);
  process.exit(1);
});
const stop = () => server.close(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
