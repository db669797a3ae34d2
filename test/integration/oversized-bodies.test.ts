// An oversized form at an endpoint whose body Gatehouse reads ahead of the provider (client-auth
// keys, JWT introspection) is refused with 413 — and the connection is closed with it. Left open,
// the rest of the unread body stays on the socket and the next request a client's keep-alive pool
// sends on that connection never gets an answer (it hung until the client's own timeout).
import { connect } from 'node:net';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { FORM_BODY_LIMIT } from '../../src/http/form-body.ts';
import { adminClient } from '../helpers/admin.ts';
import { startInstance } from '../helpers/instance.ts';
import { freePort } from '../helpers/redis-server.ts';
import { emptyDatabaseUri, randomSecret, recycleDatabase, serviceUrls } from '../helpers/stores.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

interface Exchange {
  /** Status lines of every response that came back on the connection, in order. */
  readonly statuses: number[];
  /** Headers of the first response (lower-cased names). */
  readonly headers: Record<string, string>;
  /** Body of the first response. */
  readonly body: string;
}

/**
 * Writes one oversized form and then a small request on the same keep-alive connection, and
 * reads until the server ends the connection. A server that keeps it open after the 413 never
 * ends it (the test then fails by mocha's timeout: the suite's default, not a shorter one of its
 * own, since the same limit covers the hook that starts a Gatehouse on a loaded machine).
 */
function oversizedThenSmall(port: number, path: string, authorization: string | undefined, json = false, language?: string): Promise<Exchange> {
  const request = (body: string) =>
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: ${json ? 'application/json' : 'application/x-www-form-urlencoded'}\r\n` +
    `${language === undefined ? '' : `Accept-Language: ${language}\r\n`}` +
    `${authorization === undefined ? '' : `Authorization: ${authorization}\r\n`}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const statuses = [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const headers = Object.fromEntries(
        head
          .split('\r\n')
          .slice(1)
          .map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      resolve({ statuses, headers, body: (rest[0] ?? '').slice(0, Number(headers['content-length'] ?? 0)) });
    });
    socket.write(request(json ? JSON.stringify({ name: 'x'.repeat(FORM_BODY_LIMIT * 4) }) : `client_id=someone&token=${'x'.repeat(FORM_BODY_LIMIT * 4)}`));
    socket.write(request(json ? '{}' : 'token=small'));
  });
}

describe('oversized bodies read by Gatehouse (forms ahead of the provider, admin JSON): 413 and the connection closed', () => {
  let mongodbUri: string;
  let gatehouse: RunningGatehouse;
  let port: number;
  let basic: string;

  before(async () => {
    mongodbUri = emptyDatabaseUri('oversized_bodies');
    port = await freePort();
    gatehouse = await startInstance({ mongodbUri, redisUrl: serviceUrls().redisUrl, secret: randomSecret(), issuer: `http://127.0.0.1:${port}`, settings: { PORT: String(port) } });
    const { client, secret } = await gatehouse.services.clients.create({
      displayName: 'Reports',
      metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' },
    });
    basic = clientSecretBasic(client.clientId, secret!);
  });
  after(async () => {
    await gatehouse?.close();
    await recycleDatabase(mongodbUri);
  });

  const cases: Array<[string, string, boolean]> = [
    ['token (client in the body)', '/token', false],
    ['pushed authorization requests (client in the body)', '/request', false],
    ['device authorization (client in the body)', '/device/auth', false],
    ['introspection (HTTP Basic)', '/token/introspection', true],
    ['revocation (HTTP Basic)', '/token/revocation', true],
    ['token (HTTP Basic)', '/token', true],
    ['pushed authorization requests (HTTP Basic)', '/request', true],
    ['device authorization (HTTP Basic)', '/device/auth', true],
  ];
  for (const [name, path, withBasic] of cases) {
    it(`${name}: 413 invalid_request as JSON, Connection: close, and the server ends the connection`, async () => {
      const exchange = await oversizedThenSmall(port, path, withBasic ? basic : undefined);
      expect(exchange.statuses[0]).to.equal(413);
      expect(exchange.headers['content-type']).to.match(/^application\/json/);
      expect(JSON.parse(exchange.body)).to.deep.equal({ error: 'invalid_request', error_description: 'request body too large' });
      expect(exchange.headers.connection).to.equal('close');
      expect(exchange.statuses, 'nothing answered from the leftover body').to.have.length(1);
    });
  }

  it('admin API (JSON body): 413 invalid_request, Connection: close, and the server ends the connection', async () => {
    const admin = await adminClient(gatehouse);
    const exchange = await oversizedThenSmall(port, '/admin/api/v1/clients', `Bearer ${await admin.token()}`, true);
    expect(exchange.statuses[0]).to.equal(413);
    expect(exchange.headers['content-type']).to.match(/^application\/json/);
    expect(JSON.parse(exchange.body)).to.include({ error: 'invalid_request', error_description: 'request body too large' });
    expect(exchange.headers.connection).to.equal('close');
    expect(exchange.statuses).to.have.length(1);
  });

  // The hosted pages' forms (src/interactions/body.ts) are read before anything else is checked,
  // so these need no SMTP, reset link or interaction. A browser-sized client that writes the whole
  // body before reading (Python's requests, for one) hung until its own timeout.
  for (const [name, path] of [
    ['password reset request (hosted page form)', '/password/forgot'],
    ['email confirmation (hosted page form)', '/email/verify/some-token'],
  ] as const) {
    it(`${name}: 413 page, Connection: close, and the server ends the connection`, async () => {
      const exchange = await oversizedThenSmall(port, path, undefined);
      expect(exchange.statuses[0]).to.equal(413);
      expect(exchange.headers.connection).to.equal('close');
      expect(exchange.statuses, 'nothing answered from the leftover body').to.have.length(1);
    });
  }

  // The page says how much a form may carry, in the reader's language and units (it only said
  // "the request from the application was not valid", which a person who pasted a long text cannot act on).
  for (const [language, limit, words] of [
    ['en', '16 kB', 'at most 16 kB'],
    ['ru', '16 кБ', 'не больше 16 кБ'],
    ['zh-CN', '16 kB', '最多 16 kB'],
    ['ko', '16kB', '최대 16kB'],
  ] as const) {
    it(`the 413 page in ${language} names the form's limit (${limit}) and what to do`, async () => {
      const exchange = await oversizedThenSmall(port, '/password/forgot', undefined, false, language);
      expect(exchange.statuses[0]).to.equal(413);
      expect(exchange.headers['content-type']).to.match(/^text\/html/);
      expect(exchange.body).to.include(`<html lang="${language}">`).and.include(words);
      expect(exchange.body, 'not the invalid-request text of an application\'s mistake').not.to.include('invalid_request');
    });
  }

  it('the next request on a new connection is answered as usual', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
      body: 'token=unknown',
    });
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ active: false });
  });
});
