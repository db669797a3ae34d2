import { readdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import Koa from 'koa';
import { accountPage } from '../../src/account/routes.ts';
import { consoleRoutes } from '../../src/console/routes.ts';

const endpoints = { authorization: '/auth', token: '/token', endSession: '/session/end', revocation: '/token/revocation', admin: '/admin/api/v1', api: '/account/api', webauthn: '/webauthn.js' };
const issuer = 'https://id.example.com';

/** Every import of a served module: static (`from '…'`, bare `import '…'`) and dynamic. */
function importsOf(body: string): string[] {
  const statics = body.matchAll(/^(?:import|export)\s[^;()]*?\bfrom\s*(['"])([^'"]+)\1/gm);
  const bare = body.matchAll(/^import\s*(['"])([^'"]+)\1/gm);
  const dynamic = body.matchAll(/\bimport\s*\(\s*(['"])([^'"]+)\1/g);
  return [...statics, ...bare, ...dynamic].map((match) => match[2]!);
}

/**
 * The console's pages type the admin API's responses with the server's own types
 * (src/admin/responses.ts, `import type`): what the browser gets must still import nothing but
 * the app's own modules and the shared browser ones, all under the app's assets.
 */
describe('browser apps load no server module', () => {
  let server: Server;
  let base: string;
  before(async () => {
    const app = new Koa();
    app.use(consoleRoutes({ path: '/console', issuer, endpoints, adminAudience: 'https://id.example.com/admin/api/v1' }));
    app.use(accountPage({ path: '/account', issuer, endpoints, clients: { get: async () => undefined } }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  for (const [app, folder] of [
    ['console', 'src/console/web'],
    ['account', 'src/account/web'],
  ] as const) {
    it(`${app}: each module imports only modules under the app's assets`, async () => {
      const modules = readdirSync(folder).filter((name) => name.endsWith('.ts'));
      expect(modules).to.include('app.ts');
      const seen = new Set<string>();
      const queue = modules.map((name) => name.replace(/\.ts$/, '.js'));
      while (queue.length > 0) {
        const name = queue.shift()!;
        if (seen.has(name)) continue;
        seen.add(name);
        const response = await fetch(`${base}/${app}/assets/${name}`);
        expect(response.status, name).to.equal(200);
        const body = await response.text();
        for (const specifier of importsOf(body)) {
          expect(specifier, `${name} imports ${specifier}`).to.match(/^\.\/(browser-app\/)?[a-z][a-z0-9-]*\.js$/);
          const target = specifier.startsWith('./browser-app/') ? `browser-app/${specifier.slice('./browser-app/'.length)}` : specifier.slice(2);
          queue.push(name.startsWith('browser-app/') ? `browser-app/${target}` : target);
        }
      }
      expect([...seen].some((name) => name.startsWith('browser-app/'))).to.equal(true);
    });
  }
});
