import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import Koa from 'koa';
import { REQUIRED_ACTIONS } from '../../src/accounts/required-actions.ts';
import { consoleRoutes } from '../../src/console/routes.ts';

/**
 * The console's Required actions card offers the actions the model defines
 * (src/accounts/required-actions.ts), in its order, with no copy of the list in the browser
 * modules: the shell page carries them, and every console locale labels each.
 */
describe('console: the required actions come from their one definition', () => {
  it('the shell page carries them in data-required-actions, in the order the sign-in asks for them', async () => {
    const koa = new Koa();
    koa.use(
      consoleRoutes({
        path: '/console',
        issuer: 'https://id.example.com',
        endpoints: { authorization: '/auth', token: '/token', revocation: '/token/revocation', endSession: '/session/end', admin: '/admin/api/v1' },
        adminAudience: 'https://id.example.com/admin',
      }),
    );
    const server: Server = koa.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const html = await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/console/`)).text();
      expect(html).to.include(`data-required-actions="${REQUIRED_ACTIONS.join(' ')}"`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('the card module holds no list of its own', () => {
    const source = readFileSync(new URL('../../src/console/web/user-required-actions.ts', import.meta.url), 'utf8');
    for (const action of REQUIRED_ACTIONS) expect(source, action).to.not.include(`'${action}'`);
  });

  for (const locale of ['en', 'ru', 'zh-CN', 'ko']) {
    it(`${locale}: every action has its label`, () => {
      const strings = JSON.parse(readFileSync(new URL(`../../src/console/web/locales/${locale}.json`, import.meta.url), 'utf8')) as Record<string, string>;
      for (const action of REQUIRED_ACTIONS) expect(strings[`user.requiredActions.${action}`], action).to.be.a('string').and.not.equal('');
    });
  }
});
