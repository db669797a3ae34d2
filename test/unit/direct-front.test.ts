import { expect } from 'chai';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa, { type Context, type Middleware } from 'koa';
import { openRefreshEnvelopes } from '../../src/keycloak/refresh-envelope.ts';
import type { AttemptLimiter } from '../../src/limits/attempt-limits.ts';
import { clientAuthGate, userCodeGate } from '../../src/limits/gates.ts';
import { directFront, markDirect } from '../../src/oidc/direct-front.ts';
import { refreshGrantScope } from '../../src/oidc/refresh-grant-scope.ts';
import { answerRefusedRequestObjects } from '../../src/oidc/refused-request-objects.ts';
import { actsOn, guarding, type EndpointName } from '../../src/routes/guards.ts';
import { oauthEndpointAt } from '../../src/routes/match.ts';
import { discoveryPath, endpointPath, gatehouseRoutes, keycloakRoutes, PROVIDER_ROUTE_NAMES, type RoutesTable } from '../../src/routes/table.ts';

const ENDPOINTS: readonly EndpointName[] = [...PROVIDER_ROUTE_NAMES, 'discovery'];

function pathOf(table: RoutesTable, endpoint: EndpointName): string {
  return endpoint === 'discovery' ? discoveryPath(table) : endpointPath(table, endpoint);
}

/** A Koa context for a form POST (or GET) to `path`, on a request whose body is still unread. */
function contextFor(method: string, path: string): Context {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.url = path;
  req.headers = { host: 'localhost', 'content-type': 'application/x-www-form-urlencoded', 'content-length': '27', authorization: 'Basic YTpi' };
  return new Koa().createContext(req, new ServerResponse(req));
}

/** Never asked: a gate that asks for a route it does not guard fails the test. */
const limiter: AttemptLimiter = {
  retryAfter: () => Promise.reject(new Error('the limiter was asked')),
  fail: () => Promise.reject(new Error('the limiter was asked')),
  reserve: () => Promise.reject(new Error('the limiter was asked')),
  takeBack: () => Promise.reject(new Error('the limiter was asked')),
};

/**
 * The direct path to the provider (src/app.ts) leaves a gate out of every endpoint it does not
 * declare (src/routes/guards.ts). That is only safe if the gate does nothing there anyway: on
 * every other endpoint's path, in both layouts and with every method, it must call next()
 * without answering, reading the body or replacing the request.
 */
describe('gates in front of the provider: the routes they declare are the only ones they act on', () => {
  const gates: Array<[string, (table: RoutesTable) => Middleware]> = [
    ['clientAuthGate', (table) => clientAuthGate(limiter, table)],
    ['userCodeGate', (table) => userCodeGate(limiter, async () => {}, table)],
    ['answerRefusedRequestObjects', (table) => answerRefusedRequestObjects(table)],
    ['refreshGrantScope', (table) => refreshGrantScope(table, () => {
      throw new Error('entered the refresh-grant scope');
    })],
    ['openRefreshEnvelopes', (table) => openRefreshEnvelopes(table)],
  ];
  for (const table of [gatehouseRoutes('http://localhost:3000'), keycloakRoutes('http://localhost:3000', 'acme')]) {
    for (const [name, make] of gates) {
      it(`${name} (${table.layout} layout)`, async () => {
        const gate = make(table);
        const declared = ENDPOINTS.filter((endpoint) => actsOn(gate, endpoint));
        expect(declared.length, 'declares its routes').to.be.greaterThan(0).and.lessThan(ENDPOINTS.length);
        for (const endpoint of ENDPOINTS.filter((candidate) => !declared.includes(candidate))) {
          for (const method of ['POST', 'GET']) {
            const ctx = contextFor(method, pathOf(table, endpoint));
            const req = ctx.req;
            let passed = false;
            await gate(ctx, async () => {
              passed = true;
            });
            expect(passed, `${endpoint} ${method}: next()`).to.equal(true);
            expect(ctx.body, `${endpoint} ${method}: no answer`).to.equal(undefined);
            expect(ctx.req, `${endpoint} ${method}: the same request`).to.equal(req);
            expect(req.readableDidRead, `${endpoint} ${method}: body unread`).to.equal(false);
          }
        }
      });
    }
  }
});

describe('directFront: the steps of the endpoint a request was handed over for', () => {
  const ran: string[] = [];
  const step = (label: string): Middleware => async (_ctx, next) => {
    ran.push(label);
    await next();
  };
  const front = directFront([step('edge'), guarding(['token', 'introspection'], step('client gate')), guarding(['userinfo'], step('userinfo swap')), step('local path')]);

  async function run(endpoint: EndpointName | undefined): Promise<string[]> {
    ran.length = 0;
    const ctx = contextFor('POST', '/anything');
    if (endpoint !== undefined) markDirect(ctx.req, endpoint);
    await front(ctx, async () => {
      ran.push('provider');
    });
    return [...ran];
  }

  it('runs the unmarked steps on every endpoint and a marked one only on its routes, in order', async () => {
    expect(await run('userinfo')).to.deep.equal(['edge', 'userinfo swap', 'local path', 'provider']);
    expect(await run('token')).to.deep.equal(['edge', 'client gate', 'local path', 'provider']);
    expect(await run('jwks')).to.deep.equal(['edge', 'local path', 'provider']);
    expect(await run('discovery')).to.deep.equal(['edge', 'local path', 'provider']);
  });

  it('passes a request that came through Gatehouse’s app (not handed over) straight on', async () => {
    expect(await run(undefined)).to.deep.equal(['provider']);
  });

  it('hands over exactly the OAuth endpoints and discovery (oauthEndpointAt), in both layouts', () => {
    for (const table of [gatehouseRoutes('http://localhost:3000'), keycloakRoutes('http://localhost:3000', 'acme')]) {
      const handed = ENDPOINTS.filter((endpoint) => oauthEndpointAt(table, pathOf(table, endpoint)) === endpoint);
      expect(handed, table.layout).to.have.members(['token', 'introspection', 'revocation', 'userinfo', 'jwks', 'discovery']);
      expect(oauthEndpointAt(table, '/healthz'), table.layout).to.equal(undefined);
    }
  });
});
