import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import { expect } from 'chai';
import Koa from 'koa';
import { HashQueueFullError } from '../../src/accounts/errors.ts';
import { requestId } from '../../src/http/request-id.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { pageErrors } from '../../src/interactions/page-errors.ts';
import { createViews } from '../../src/interactions/views.ts';
import { themeStylesheet } from '../../src/interactions/theme.ts';

const views = createViews({
  directory: fileURLToPath(new URL('../../views', import.meta.url)),
  brand: { name: 'Gatehouse', logoUrl: undefined, primaryColor: '#1f5fbf', supportUrl: undefined },
});

async function serve(error: unknown): Promise<Response> {
  const app = new Koa();
  const router = new Router();
  router.use(pageErrors(views, createLogger('silent')));
  router.post('/interaction/:uid/login', () => {
    throw error;
  });
  app.use(requestId());
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as { port: number };
    return await fetch(`http://127.0.0.1:${port}/interaction/abc/login`, { method: 'POST', headers: { 'accept-language': 'ko' } });
  } finally {
    server.close();
  }
}

describe('hosted page errors', () => {
  it('answers a full hashing queue with 503, Retry-After and a friendly localized page', async () => {
    const response = await serve(new HashQueueFullError(7));
    expect(response.status).to.equal(503);
    expect(response.headers.get('retry-after')).to.equal('7');
    expect(response.headers.get('cache-control')).to.equal('no-store');
    const html = await response.text();
    expect(html).to.contain('<html lang="ko">').and.contain('지금은 요청이 많습니다').and.contain('href="/interaction/abc"');
    expect(html).not.to.contain('hashing');
  });

  it('answers unexpected failures with a 500 page that shows no internals', async () => {
    const response = await serve(new Error('secret internals at /srv/app.js:12'));
    expect(response.status).to.equal(500);
    const html = await response.text();
    expect(html).not.to.contain('secret internals');
    expect(html).to.contain(response.headers.get('x-request-id')!);
  });

  it('derives readable button and link colours from any primary colour', () => {
    expect(themeStylesheet('#1f5fbf')).to.contain('--on-primary: #ffffff').and.contain('--accent: #1f5fbf');
    expect(themeStylesheet('#ffd400')).to.contain('--on-primary: #111111').and.contain('--accent: #1b1f24');
  });
});
