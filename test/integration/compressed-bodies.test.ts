// Request bodies a careless or hostile client sends — compressed (a few KiB that inflate to
// megabytes), chunked past the limit, two lengths — at the OAuth endpoints, the admin API and a
// hosted page's form. A compressed body was read as its raw bytes: 400 "missing required
// parameter 'grant_type'" at /token, "not UTF-8" at the admin API — now 415 naming the encoding.
import { connect } from 'node:net';
import { gzipSync, deflateSync } from 'node:zlib';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { FORM_BODY_LIMIT } from '../../src/http/form-body.ts';
import { startInstance } from '../helpers/instance.ts';
import { freePort } from '../helpers/redis-server.ts';
import { emptyDatabaseUri, randomSecret, recycleDatabase, serviceUrls } from '../helpers/stores.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

interface Answer {
  readonly status: number | undefined;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly raw: string;
}

/** Writes `head` then `parts` (each awaited), reads until the server closes or `idleMs` passes with the answer complete. */
function exchange(port: number, head: string, parts: Buffer[] = []): Promise<Answer> {
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

describe('probe: odd request bodies', () => {
  let mongodbUri: string;
  let gatehouse: RunningGatehouse;
  let port: number;
  let basic: string;

  before(async () => {
    mongodbUri = emptyDatabaseUri('probe_odd_bodies');
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
        const answer = await exchange(port, `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic}\r\nContent-Type: ${type}\r\nContent-Encoding: ${encoding}\r\nContent-Length: ${packed.length}\r\n\r\n`, [packed]);
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
    const identity = await exchange(port, `POST /token HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Encoding: identity\r\nContent-Length: ${form.length}\r\nConnection: close\r\n\r\n${form}`);
    expect(identity.status).to.equal(200);
    expect(JSON.parse(identity.body)).to.have.property('access_token');
    const bodiless = await exchange(port, `GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n`);
    expect(bodiless.status).to.equal(200);
  });

  for (const path of ['/token', '/token/introspection', '/admin/api/v1/clients', '/password/forgot']) {
    it(`${path}: a chunked body past the limit, without a length: refused (413, or 401 where the caller is checked first)`, async () => {
      const chunk = Buffer.from(`${(64 * 1024).toString(16)}\r\n${'x'.repeat(64 * 1024)}\r\n`);
      const parts = Array.from({ length: Math.ceil((FORM_BODY_LIMIT * 4) / (64 * 1024)) }, () => chunk);
      const type = path.startsWith('/admin') ? 'application/json' : 'application/x-www-form-urlencoded';
      const answer = await exchange(port, `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${path.startsWith('/admin') ? 'Bearer nope' : basic}\r\nContent-Type: ${type}\r\nTransfer-Encoding: chunked\r\n\r\n`, [...parts, Buffer.from('0\r\n\r\n')]);
      expect(answer.status).to.be.oneOf([401, 413]);
    });
  }

  it('/token: two different Content-Length headers are refused by the HTTP parser (400), the connection closed', async () => {
    const answer = await exchange(port, `POST /token HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 29\r\nContent-Length: 5\r\n\r\ngrant_type=client_credentials`);
    expect(answer.status).to.equal(400);
  });
});
