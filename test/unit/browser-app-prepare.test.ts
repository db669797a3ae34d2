import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Koa from 'koa';
import { createBrowserModules, transpile, type BrowserModules } from '../../src/browser-app/modules.ts';
import { serveBrowserApp } from '../../src/browser-app/serve.ts';

/**
 * A browser app's first page load must not wait for the TypeScript compiler (on a loaded machine
 * the console's first load outlasted a test's 30 s): prepare() reads and compiles every asset
 * ahead, the requests after it compile nothing, and compiled sources are kept on disk by content.
 */
describe('browser app: assets prepared ahead', () => {
  let root: string;
  let webDir: string;
  let sharedDir: string;
  let cacheDir: string;
  const compiles: string[] = [];
  const counting = async (source: string) => {
    compiles.push(source);
    return transpile(source);
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'gatehouse-browser-app-'));
    webDir = join(root, 'app', 'web');
    sharedDir = join(root, 'browser-app', 'web');
    cacheDir = join(root, 'cache');
    await mkdir(join(webDir, 'locales'), { recursive: true });
    await mkdir(sharedDir, { recursive: true });
    await writeFile(join(webDir, 'app.ts'), "import { greet } from './greeting.ts';\nimport { h } from '../../browser-app/web/dom.ts';\nconst n: number = 1;\nh(greet(n));\n");
    await writeFile(join(webDir, 'greeting.ts'), 'export const greet = (n: number): string => `hello ${n}`;\n');
    await writeFile(join(webDir, 'app.css'), 'body { margin: 0 }\n');
    await writeFile(join(webDir, 'locales', 'en.json'), '{"hello":"Hello"}\n');
    await writeFile(join(sharedDir, 'dom.ts'), 'export function h(text: string): Text { return document.createTextNode(text); }\n');
    await writeFile(join(sharedDir, 'base.css'), 'html { color: black }\n');
  });
  after(() => rm(root, { recursive: true, force: true }));

  async function serving(modules: BrowserModules, work: (get: (name: string) => Promise<Response>) => Promise<void>): Promise<void> {
    const app = serveBrowserApp({
      path: '/app',
      issuer: 'https://id.example.com',
      client: { id: 'app', authorization: '/auth', token: '/token', endSession: '/session/end' },
      webDir,
      sharedDir,
      modules,
      shell: { title: 'App', stylesheet: 'app.css', data: {}, noscript: 'JavaScript, please.' },
    });
    await app.prepare();
    const koa = new Koa();
    koa.use(app);
    const server: Server = koa.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/app/assets/`;
    try {
      await work((name) => fetch(`${base}${name}`));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('compiles every module before the first request, and no request compiles', async () => {
    compiles.length = 0;
    const modules = createBrowserModules({ compile: counting, cacheDir });
    await serving(modules, async (get) => {
      // prepare() compiled all three: the app's two and the shared one.
      expect(modules.compiled).to.equal(3);
      expect(compiles).to.have.length(3);
      const app = await get('app.js');
      expect(app.status).to.equal(200);
      const body = await app.text();
      expect(body).to.match(/from ["']\.\/greeting\.js["']/).and.match(/from ["']\.\/browser-app\/dom\.js["']/);
      expect(body).to.not.include(': number');
      for (const name of ['greeting.js', 'browser-app/dom.js', 'app.css', 'browser-app/base.css', 'locales/en.json']) {
        expect((await get(name)).status, name).to.equal(200);
      }
      expect((await get('missing.js')).status).to.equal(404);
      expect(compiles, 'compiled on request').to.have.length(3);
    });
  });

  it('keeps compiled sources on disk: the next process compiles nothing, a changed source again', async () => {
    compiles.length = 0;
    const next = createBrowserModules({ compile: counting, cacheDir });
    await serving(next, async (get) => {
      expect(next.compiled).to.equal(0);
      expect(await (await get('greeting.js')).text()).to.include('hello');
    });
    expect(compiles).to.deep.equal([]);

    await writeFile(join(webDir, 'greeting.ts'), 'export const greet = (n: number): string => `hi ${n}`;\n');
    const changed = createBrowserModules({ compile: counting, cacheDir });
    await serving(changed, async (get) => {
      expect(changed.compiled).to.equal(1);
      expect(await (await get('greeting.js')).text()).to.include('hi ');
    });
  });

  it('reads compiled .js as it is (dist/): nothing to compile', async () => {
    const dist = join(root, 'dist', 'web');
    await mkdir(dist, { recursive: true });
    await writeFile(join(dist, 'app.js'), 'export const ready = true;\n');
    compiles.length = 0;
    const modules = createBrowserModules({ compile: counting, cacheDir });
    await modules.prepare([dist]);
    expect(await modules.module(dist, 'app')).to.equal('export const ready = true;\n');
    expect(modules.compiled).to.equal(0);
    expect(compiles).to.deep.equal([]);
  });
});
