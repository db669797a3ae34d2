import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { instanceForSuite } from '../helpers/e2e.ts';
import { captureLogs } from '../helpers/log-capture.ts';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** What a client puts in a path: an interaction uid (also a cookie's value), a link token, a code. */
const secret = () => randomBytes(32).toString('base64url');

/**
 * The access log names a request by its route: the provider's route name, or the template of
 * the Gatehouse route (`/interaction/:uid/login`). A path no route serves, or a route's path with
 * a method it does not take, carries the same uids, link tokens and codes as the real routes: the
 * line must not either — a template where the path matches one, else the path with every segment
 * Gatehouse's own paths are not made of replaced. Read from the real logger's output.
 */
describe('the access log writes no ids, codes or tokens from any path', function () {
  this.timeout(60_000);
  const logs = captureLogs('info');
  const instance = instanceForSuite('request_log_paths', { logger: logs.logger });

  async function logged(method: string, path: (value: string) => string): Promise<{ value: string; line: Record<string, unknown> }> {
    const value = secret();
    const response = await fetch(`${instance.deploy.issuer}${path(value)}`, { method, redirect: 'manual', headers: { accept: BROWSER_ACCEPT } });
    await response.arrayBuffer();
    const id = response.headers.get('x-request-id')!;
    const line = await logs.requestLine(id);
    expect(JSON.stringify(line), `${method} ${path('<value>')}`).not.to.contain(value);
    expect(logs.text(), `${method} ${path('<value>')}: no line at all`).not.to.contain(value);
    return { value, line };
  }

  it('a route of Gatehouse asked with a method it does not take is logged by its template', async () => {
    const { line } = await logged('PUT', (value) => `/interaction/${value}/login`);
    expect(line).to.include({ route: '/interaction/:uid/login', method: 'PUT' });
    expect(line).not.to.have.property('path');
    expect((await logged('DELETE', (value) => `/password/reset/${value}`)).line).to.include({ route: '/password/reset/:token' });
    expect((await logged('PATCH', (value) => `/email/verify/${value}`)).line).to.include({ route: '/email/verify/:token' });
  });

  it('a path no route serves is logged with only the segments Gatehouse\'s own paths are made of', async () => {
    expect((await logged('GET', (value) => `/interaction/${value}/no-such-step`)).line).to.include({ route: 'other', path: '/interaction/*/*', status: 404 });
    expect((await logged('GET', (value) => `/${value}`)).line).to.include({ route: 'other', path: '/*' });
    expect((await logged('GET', (value) => `/auth/${value}/more`)).line).to.include({ route: 'other', path: '/auth/*/*' });
    expect((await logged('POST', (value) => `/token/${value}`)).line).to.include({ route: 'other', path: '/token/*' });
    expect((await logged('GET', (value) => `/upstream/${value}/nowhere`)).line).to.include({ route: 'other', path: '/upstream/*/*' });
    expect((await logged('GET', (value) => `/.well-known/${value}`)).line).to.include({ route: 'other', path: '/.well-known/*' });
    expect((await logged('GET', (value) => `/account/api/v1/${value}/x`)).line.route).to.be.a('string');
  });
});
