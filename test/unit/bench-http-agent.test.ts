import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BenchAgent, send } from '../../bench/lib/http-agent.ts';

/** What the bench's sign-in load needs of its HTTP client, as test/helpers/browserless.ts's UserAgent does it on fetch. */
describe('bench HTTP agent (bench/lib/http-agent.ts, node:http keep-alive)', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ method: string; url: string; cookie: string | undefined; body: string; contentType: string | undefined }> = [];
  before(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push({ method: request.method!, url: request.url!, cookie: request.headers.cookie, body, contentType: request.headers['content-type'] });
        if (request.url === '/start') {
          response.writeHead(303, { location: '/page', 'set-cookie': ['_session=abc; path=/; httponly', '_interaction=xyz; path=/'] });
          response.end();
        } else if (request.url === '/forget') {
          response.writeHead(200, { 'set-cookie': ['_interaction=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT'] });
          response.end('forgotten');
        } else {
          response.writeHead(request.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain' });
          response.end(`hello ${request.url}`);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => void seen.splice(0));

  it('does not follow redirects: the status and Location come back as they are', async () => {
    const response = await new BenchAgent().request(`${base}/start`);
    expect(response.status).to.equal(303);
    expect(response.headers.get('location')).to.equal('/page');
    expect(seen.map((request) => request.url)).to.deep.equal(['/start']);
  });

  it('keeps cookies from Set-Cookie, sends them back, and drops an expired one', async () => {
    const agent = new BenchAgent();
    await agent.request(`${base}/start`);
    await agent.request(`${base}/page`);
    expect(seen[1]!.cookie).to.equal('_session=abc; _interaction=xyz');
    await agent.request(`${base}/forget`);
    await agent.request(`${base}/page`);
    expect(seen[3]!.cookie).to.equal('_session=abc');
    // Another agent is another browser: no cookies.
    await new BenchAgent().request(`${base}/page`);
    expect(seen[4]!.cookie).to.equal(undefined);
  });

  it('posts a form url-encoded, and reads any status with its body', async () => {
    const response = await new BenchAgent().postForm(`${base}/login`, { login: 'a b', password: 'p&q=' });
    expect(response.status).to.equal(200);
    expect(await response.text()).to.equal('hello /login');
    expect(seen[0]).to.include({ method: 'POST', body: 'login=a+b&password=p%26q%3D', contentType: 'application/x-www-form-urlencoded' });
    const missing = await send(`${base}/missing`);
    expect(missing.status).to.equal(404);
    expect(await missing.text()).to.equal('hello /missing');
  });

  it('rejects when nothing answers (counted as an error by the load loop)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    let failure: unknown;
    await send(url).catch((error: unknown) => (failure = error));
    expect(failure).to.be.instanceOf(Error);
  });
});
