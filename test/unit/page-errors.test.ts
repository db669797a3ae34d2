import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import { expect } from 'chai';
import Koa from 'koa';
import { HashQueueFullError } from '../../src/accounts/errors.ts';
import { requestId } from '../../src/http/request-id.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { CsrfError, pageErrors } from '../../src/interactions/page-errors.ts';
import { readForm } from '../../src/interactions/body.ts';
import { sendPage } from '../../src/interactions/send-page.ts';
import { createViews } from '../../src/interactions/views.ts';
import { themeStylesheet } from '../../src/interactions/theme.ts';

const views = createViews({
  directory: fileURLToPath(new URL('../../views', import.meta.url)),
  brand: { name: 'Gatehouse', logoUrl: undefined, primaryColor: '#1f5fbf', supportUrl: undefined },
});

async function serve(error: unknown): Promise<Response> {
  return post(() => {
    throw error;
  });
}

/** POSTs to a page route that runs `handle` behind the hosted pages' error boundary. */
async function post(handle: Koa.Middleware, init: RequestInit = {}): Promise<Response> {
  const app = new Koa();
  const router = new Router();
  router.use(pageErrors(views, createLogger('silent')));
  router.post('/interaction/:uid/login', handle);
  app.use(requestId());
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as { port: number };
    return await fetch(`http://127.0.0.1:${port}/interaction/abc/login`, { method: 'POST', ...init, headers: { 'accept-language': 'ko', ...(init.headers as Record<string, string> | undefined) } });
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
    expect(html).to.contain('class="reference"');
  });

  it('shows the support reference only for server failures, not for what the person or the application can put right', async () => {
    const csrf = await serve(new CsrfError());
    expect(csrf.status).to.equal(403);
    const page = await csrf.text();
    expect(page).not.to.contain('class="reference"');
    // Its message says what to do ("go back and try again"): the page does not say it a second time.
    expect(page).to.contain('돌아가서 다시 시도하세요').and.contain('계속 이런 문제가 발생하면 지원팀에 문의하세요.').and.not.contain('애플리케이션으로 돌아가 다시 시도하세요');
    // A form shown again with the person's error (400), and a page without one (200): alike, no reference.
    for (const status of [200, 400]) {
      const form = await post(async (ctx) => sendPage(ctx, views, 'mfa-verify', 'en', { title: 'Two-step verification', lead: '', error: 'That code did not work.', uid: 'abc', csrf: 'x' }, status));
      expect(form.status).to.equal(status);
      expect(await form.text()).to.contain('That code did not work.').and.not.contain('class="reference"');
    }
  });

  it('reads a page form sent urlencoded or as multipart/form-data (files left out, a repeated name missing)', async () => {
    const echo: Koa.Middleware = async (ctx) => {
      ctx.body = await readForm(ctx);
    };
    const urlencoded = await post(echo, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=t&login=alice&password=a%20b' });
    expect(await urlencoded.json()).to.deep.equal({ csrf: 't', login: 'alice', password: 'a b' });
    const multipart = new FormData();
    multipart.set('csrf', 't');
    multipart.set('login', 'алиса');
    multipart.set('password', 'a b');
    multipart.set('avatar', new Blob(['not a field']), 'avatar.png');
    multipart.append('twice', '1');
    multipart.append('twice', '2');
    const answer = await post(echo, { body: multipart });
    expect(answer.status).to.equal(200);
    expect(await answer.json()).to.deep.equal({ csrf: 't', login: 'алиса', password: 'a b' });
  });

  it('answers a page form in any other encoding with a 415 page that says what went wrong, in the reader\'s language', async () => {
    const echo: Koa.Middleware = async (ctx) => {
      ctx.body = await readForm(ctx);
    };
    for (const init of [
      { headers: { 'content-type': 'application/json' }, body: '{"login":"alice"}' },
      { headers: { 'content-type': 'text/plain' }, body: 'login=alice' },
      { headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: 'no parts here' },
    ]) {
      const response = await post(echo, init);
      expect(response.status, init.headers['content-type']).to.equal(415);
      const html = await response.text();
      expect(html).to.contain('<html lang="ko">').and.contain('양식이 브라우저가 보내는 형식으로 도착하지 않았습니다');
      expect(html).not.to.contain('class="reference"');
    }
  });

  it('derives readable button and link colours from any primary colour', () => {
    expect(themeStylesheet('#1f5fbf')).to.contain('--on-primary: #ffffff').and.contain('--accent: #1f5fbf');
    expect(themeStylesheet('#ffd400')).to.contain('--on-primary: #111111').and.contain('--accent: #1b1f24');
  });
});
