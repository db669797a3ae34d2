import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface Inbox {
  /** smtp://127.0.0.1:<port> (no TLS, no auth). */
  readonly url: string;
  readonly received: ParsedMail[];
  /** The next message that arrives (or the first already received and not yet taken). */
  next(): Promise<ParsedMail>;
  /** Makes the server answer 451 to the next `count` messages (a temporary failure). */
  refuseNext(count: number): void;
  /** Messages refused so far. */
  readonly refused: number;
  close(): Promise<void>;
}

/** A real SMTP server in this process (the smtp-server package) that keeps what it receives. */
export async function startInbox(): Promise<Inbox> {
  const received: ParsedMail[] = [];
  const pending: ParsedMail[] = [];
  const takers: Array<(mail: ParsedMail) => void> = [];
  let toRefuse = 0;
  let refused = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      if (toRefuse > 0) {
        toRefuse -= 1;
        refused += 1;
        stream.resume();
        stream.on('end', () => callback(Object.assign(new Error('try again later'), { responseCode: 451 })));
        return;
      }
      simpleParser(stream).then(
        (mail) => {
          received.push(mail);
          const taker = takers.shift();
          if (taker === undefined) pending.push(mail);
          else taker(mail);
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    next: () => {
      const ready = pending.shift();
      return ready !== undefined ? Promise.resolve(ready) : new Promise((resolve) => takers.push(resolve));
    },
    refuseNext(count) {
      toRefuse = count;
    },
    get refused() {
      return refused;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
