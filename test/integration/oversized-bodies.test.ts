// An oversized form at an endpoint whose body Gatehouse reads ahead of the provider (client-auth
// keys, JWT introspection) is refused with 413 — and the connection is closed with it. Left open,
// the rest of the unread body stays on the socket and the next request a client's keep-alive pool
// sends on that connection never gets an answer (it hung until the client's own timeout).
// A compressed body (a few KiB that inflate to megabytes) was read as its raw bytes: 400 "missing
// required parameter 'grant_type'" at /token, "not UTF-8" at the admin API — now 415 naming the
// encoding. Chunked bodies past the limit and two Content-Length headers are pinned too.
import { connect } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
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

/** One request's answer (a compressed or chunked body, below). */
interface Answer {
  readonly status: number | undefined;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly raw: string;
}

/** Writes `head` then `parts` (each awaited), reads until the server closes or `idleMs` passes with the answer complete. */
function sendRaw(port: number, head: string, parts: Buffer[] = []): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const finish = () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const [top = '', ...rest] = raw.split('\r\n\r\n');
      const lines = top.split('\r\n');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1];
      const headers = Object.fromEntries(lines.slice(1).map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ status: status === undefined ? undefined : Number(status), headers, body: rest.join('\r\n\r\n'), raw });
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1 || text.startsWith('HTTP/1.1 100')) return;
      const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, end))?.[1];
      if (length !== undefined && Buffer.byteLength(text.slice(end + 4)) >= Number(length)) socket.destroy();
    });
    socket.on('close', finish);
    socket.on('error', reject);
    socket.write(head);
    for (const part of parts) socket.write(part);
  });
}

describe('oversized bodies read by Gatehouse (forms ahead of the provider, admin JSON): 413 and the connection closed; compressed ones 415', () => {
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

  const big = `grant_type=client_credentials&pad=${'x'.repeat(FORM_BODY_LIMIT * 50)}`;
  const endpoints = ['/token', '/token/introspection', '/token/revocation', '/request', '/device/auth', '/admin/api/v1/clients', '/password/forgot'];
  for (const [encoding, packed] of [
    ['gzip', gzipSync(big)],
    ['deflate', deflateSync(big)],
    ['gzip', gzipSync('grant_type=client_credentials')],
  ] as const) {
    for (const path of endpoints) {
      it(`${path}: a ${packed.length}-byte ${encoding} body is refused 415 naming the encoding, as JSON, the connection closed`, async () => {
        const type = path.startsWith('/admin') ? 'application/json' : 'application/x-www-form-urlencoded';
        const answer = await sendRaw(port, `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic}\r\nContent-Type: ${type}\r\nContent-Encoding: ${encoding}\r\nContent-Length: ${packed.length}\r\n\r\n`, [packed]);
        expect(answer.status).to.equal(415);
        expect(answer.headers['content-type']).to.match(/^application\/json/);
        expect(answer.headers.connection).to.equal('close');
        expect(JSON.parse(answer.body)).to.include({
          error: 'invalid_request',
          error_description: `the request body must not be compressed (Content-Encoding: ${encoding}): send it as it is`,
          code: 'compressed_body',
        });
      });
    }
  }

  it('Content-Encoding: identity, or an encoding named on a request without a body, goes on as before', async () => {
    const form = 'grant_type=client_credentials';
    const identity = await sendRaw(port, `POST /token HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Encoding: identity\r\nContent-Length: ${form.length}\r\nConnection: close\r\n\r\n${form}`);
    expect(identity.status).to.equal(200);
    expect(JSON.parse(identity.body)).to.have.property('access_token');
    const bodiless = await sendRaw(port, `GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n`);
    expect(bodiless.status).to.equal(200);
  });

  for (const path of ['/token', '/token/introspection', '/admin/api/v1/clients', '/password/forgot']) {
    it(`${path}: a chunked body past the limit, without a length: refused (413, or 401 where the caller is checked first)`, async () => {
      const chunk = Buffer.from(`${(64 * 1024).toString(16)}\r\n${'x'.repeat(64 * 1024)}\r\n`);
      const parts = Array.from({ length: Math.ceil((FORM_BODY_LIMIT * 4) / (64 * 1024)) }, () => chunk);
      const type = path.startsWith('/admin') ? 'application/json' : 'application/x-www-form-urlencoded';
      const answer = await sendRaw(port, `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${path.startsWith('/admin') ? 'Bearer nope' : basic}\r\nContent-Type: ${type}\r\nTransfer-Encoding: chunked\r\n\r\n`, [...parts, Buffer.from('0\r\n\r\n')]);
      expect(answer.status).to.be.oneOf([401, 413]);
    });
  }

  it('/token: two different Content-Length headers are refused by the HTTP parser (400), the connection closed', async () => {
    const answer = await sendRaw(port, `POST /token HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 29\r\nContent-Length: 5\r\n\r\ngrant_type=client_credentials`);
    expect(answer.status).to.equal(400);
  });
});
