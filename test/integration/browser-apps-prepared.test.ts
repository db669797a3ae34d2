import { readdirSync } from 'node:fs';
import { expect } from 'chai';
import { createBrowserModules, transpile } from '../../src/browser-app/modules.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/**
 * The console's and the account page's browser modules are compiled (from src/) while Gatehouse
 * starts, before it listens: the first page load is served from what was prepared. On a loaded
 * machine a compile on the first request had outlasted a page's 30 s load.
 */
describe('browser apps are prepared before Gatehouse listens', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let compiles = 0;
  // No disk cache: this start compiles every module itself.
  const modules = createBrowserModules({
    compile: (source) => {
      compiles += 1;
      return transpile(source);
    },
  });
  const sources = ['src/console/web', 'src/account/web', 'src/browser-app/web'].flatMap((dir) => readdirSync(dir).filter((name) => name.endsWith('.ts')).map((name) => `${dir}/${name}`));

  before(async () => {
    deploy = await deployment('browser-prepared', { browserModules: modules });
    gatehouse = await deploy.start();
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
  });

  it('compiled every module at start; the first loads of both apps compile nothing', async () => {
    expect(compiles).to.equal(sources.length);
    for (const path of sources) {
      const [, app, , file] = path.split('/') as [string, string, string, string];
      const served = file.replace(/\.ts$/, '.js');
      const url = app === 'browser-app' ? [`${deploy.issuer}/console/assets/browser-app/${served}`, `${deploy.issuer}/account/assets/browser-app/${served}`] : [`${deploy.issuer}/${app}/assets/${served}`];
      for (const each of url) {
        const response = await fetch(each);
        expect(response.status, each).to.equal(200);
        expect(response.headers.get('content-type'), each).to.include('javascript');
      }
    }
    expect(compiles, 'compiled on request').to.equal(sources.length);
  });
});
