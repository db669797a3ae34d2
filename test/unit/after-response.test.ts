import { expect } from 'chai';
import type { Context } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { notFoundPageStep } from '../../src/interactions/not-found.ts';
import { upstreamLogout } from '../../src/interactions/upstream-logout.ts';
import type { Views } from '../../src/interactions/views.ts';
import { generateSigningKey } from '../../src/keys/generate.ts';
import type { KeySet } from '../../src/keys/key-store.ts';
import { allowCredentialedTokenRequests } from '../../src/keycloak/cors-credentials.ts';
import { envelopeRefreshTokens } from '../../src/keycloak/refresh-envelope.ts';
import type { AttemptLimiter } from '../../src/limits/attempt-limits.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { afterResponse, afterResponseSteps, NO_ROUTE, type AfterResponseStep } from '../../src/oidc/after-response.ts';
import { signOutWithoutSession } from '../../src/oidc/anonymous-sign-out.ts';
import { providerBuilder } from '../../src/oidc/build-provider.ts';
import { countClientAuthFailures } from '../../src/oidc/client-auth-failures.ts';
import { widenFormActionForClient } from '../../src/oidc/form-targets.ts';
import { listGrantWhileInUse } from '../../src/oidc/grants/discovery.ts';
import { exchangedTokensFollowTheirOrigin } from '../../src/oidc/grants/exchange-link.ts';
import { introspectionClaims } from '../../src/oidc/introspection-claims.ts';
import { consumePushedRequestOnFirstUse } from '../../src/oidc/par-one-time.ts';
import { listWhileOn } from '../../src/oidc/discovery-list.ts';
import { completeRefreshRotations } from '../../src/oidc/refresh-rotation.ts';
import { answerWrongMethods } from '../../src/oidc/wrong-method.ts';
import { gatehouseRoutes } from '../../src/routes/table.ts';
import { testProviderSettings } from '../helpers/provider-settings.ts';

/** Route names as the library's router sets them (`ctx._matchedRouteName`), and the requests no route served. */
const ROUTES = [
  NO_ROUTE, 'authorization', 'resume', 'userinfo', 'cors.userinfo', 'token', 'cors.token', 'jwks', 'cors.jwks', 'discovery', 'cors.discovery',
  'registration', 'client', 'client_update', 'client_delete', 'revocation', 'cors.revocation', 'introspection', 'cors.introspection',
  'end_session', 'end_session_confirm', 'end_session_success', 'device_authorization', 'cors.device_authorization', 'code_verification',
  'device_resume', 'pushed_authorization_request', 'cors.pushed_authorization_request', 'backchannel_authentication',
];

/** A context as the provider leaves it after its router: only what the fold reads. */
const contextOn = (route: string): KoaContextWithOIDC => (route === NO_ROUTE ? {} : { _matchedRouteName: route }) as unknown as KoaContextWithOIDC;

/** A step that records where it ran, into `log`. */
function recording(name: string, routes: readonly string[], log: string[], options: { throws?: boolean; failed?: boolean; async?: boolean } = {}): AfterResponseStep {
  return {
    routes,
    after: (ctx) => {
      const route = (ctx as unknown as { _matchedRouteName?: string })._matchedRouteName ?? NO_ROUTE;
      log.push(`${name}@${route}`);
      if (options.throws === true) throw new Error(`${name} failed`);
      return options.async === true ? Promise.resolve() : undefined;
    },
    ...(options.failed === true ? { failed: () => void log.push(`${name}:failed`) } : {}),
  };
}

describe('the after-response steps as one provider middleware (src/oidc/after-response.ts)', () => {
  it('runs every step on its routes and only there, once each', async () => {
    const log: string[] = [];
    const steps = [
      recording('a', ['introspection'], log),
      recording('b', ['token', 'cors.token'], log, { async: true }),
      recording('c', [NO_ROUTE], log),
      recording('d', ['discovery', 'introspection'], log, { async: true }),
    ];
    const fold = afterResponse(steps);
    for (const route of ROUTES) {
      log.length = 0;
      await fold(contextOn(route) as unknown as Context, async () => {});
      const expected = steps
        .map((step, index) => [step, 'abcd'[index]] as const)
        .filter(([step]) => step.routes.includes(route))
        .map(([, name]) => `${name}@${route}`)
        .reverse();
      expect(log, route === NO_ROUTE ? '(no route)' : route).to.deep.equal(expected);
    }
  });

  it('runs them after the response, innermost first, as the middlewares they replace did', async () => {
    const log: string[] = [];
    const fold = afterResponse([recording('outer', ['token'], log), recording('middle', ['token'], log, { async: true }), recording('inner', ['token'], log)]);
    await fold(contextOn('token') as unknown as Context, async () => void log.push('response'));
    expect(log).to.deep.equal(['response', 'inner@token', 'middle@token', 'outer@token']);
  });

  it('a step that throws ends the steps further out (only their clean-up runs) and the error goes on', async () => {
    const log: string[] = [];
    const fold = afterResponse([
      recording('outer', ['token'], log, { failed: true }),
      recording('skipped', ['token'], log),
      recording('thrower', ['token'], log, { throws: true }),
      recording('inner', ['token'], log, { failed: true }),
    ]);
    const thrown = await fold(contextOn('token') as unknown as Context, async () => {}).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((thrown as Error).message).to.equal('thrower failed');
    expect(log).to.deep.equal(['inner@token', 'thrower@token', 'outer:failed']);
  });

  it('steps that all answer synchronously settle synchronously: no promise, the same order and outcome', () => {
    const log: string[] = [];
    const settle = afterResponseSteps([recording('outer', ['introspection'], log), recording('inner', ['introspection'], log)]);
    expect(settle(contextOn('introspection'), undefined)).to.equal(undefined);
    expect(log).to.deep.equal(['inner@introspection', 'outer@introspection']);
    log.length = 0;
    const throwing = afterResponseSteps([recording('outer', ['token'], log, { failed: true }), recording('thrower', ['token'], log, { throws: true })]);
    const outcome = throwing(contextOn('token'), undefined);
    expect(outcome).not.to.be.instanceOf(Promise);
    expect((outcome as { error: Error } | undefined)?.error.message).to.equal('thrower failed');
    expect(log).to.deep.equal(['thrower@token', 'outer:failed']);
  });

  it('once a step answers with a promise, the steps further out wait for it; its rejection is the failure they see', async () => {
    const log: string[] = [];
    let release = () => {};
    const later = new Promise<void>((resolve) => (release = resolve));
    const rejecting: AfterResponseStep = {
      routes: ['token'],
      after: async () => {
        await later;
        log.push('rejecting@token');
        throw new Error('rejected');
      },
    };
    const settle = afterResponseSteps([recording('outer', ['token'], log, { failed: true }), recording('skipped', ['token'], log), rejecting, recording('inner', ['token'], log)]);
    const outcome = settle(contextOn('token'), undefined);
    expect(outcome).to.be.instanceOf(Promise);
    expect(log, 'nothing further out ran before the promise settled').to.deep.equal(['inner@token']);
    release();
    expect(((await outcome) as { error: Error }).error.message).to.equal('rejected');
    expect(log).to.deep.equal(['inner@token', 'rejecting@token', 'outer:failed']);
  });

  it('the token and introspection steps answer a client_credentials token synchronously: no promise on the stateless paths', () => {
    // A token response that rotated nothing, and an active introspection of a machine token, as the library leaves them.
    const tokenResponse = { _matchedRouteName: 'token', status: 200, body: { access_token: 'at' }, oidc: { route: 'token', entities: { ClientCredentials: { kind: 'ClientCredentials', jti: 'cc', clientId: 'svc' } } } };
    const introspection = { _matchedRouteName: 'introspection', status: 200, req: {}, body: { active: true, client_id: 'svc' }, oidc: { route: 'introspection', entities: { ClientCredentials: { kind: 'ClientCredentials', jti: 'cc', clientId: 'svc' } } } };
    const never = () => Promise.reject(new Error('not called'));
    const rotation = completeRefreshRotations(never);
    expect(rotation.after(tokenResponse as unknown as KoaContextWithOIDC), 'completeRefreshRotations').to.equal(undefined);
    expect(rotation.after({ ...tokenResponse, status: 400 } as unknown as KoaContextWithOIDC), 'completeRefreshRotations, a refused grant').to.equal(undefined);
    expect(exchangedTokensFollowTheirOrigin.after(introspection as unknown as KoaContextWithOIDC), 'exchangedTokensFollowTheirOrigin').to.equal(undefined);
    expect(introspectionClaims({ findActive: never }, Buffer.alloc(32)).after(introspection as unknown as KoaContextWithOIDC), 'introspectionClaims').to.equal(undefined);
    expect(introspection.body).to.include({ sub: 'svc' });
  });

  it('a response that failed runs only the clean-ups of its route, then rethrows', async () => {
    const log: string[] = [];
    const fold = afterResponse([recording('cleans', ['token'], log, { failed: true }), recording('other-route', ['userinfo'], log, { failed: true }), recording('plain', ['token'], log)]);
    const failure = new Error('the library threw');
    const thrown = await fold(contextOn('token') as unknown as Context, async () => {
      throw failure;
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(thrown).to.equal(failure);
    expect(log).to.deep.equal(['cleans:failed']);
  });
});

/**
 * Every step Gatehouse folds names routes the provider really has: a misspelt route would make a
 * step silently never run. Asked of a provider built as the server builds it (src/oidc/build-provider.ts).
 */
describe('the after-response steps name routes the provider has', () => {
  const never = () => Promise.reject(new Error('not called'));
  const limiter: AttemptLimiter = { retryAfter: never, fail: never, reserve: never, takeBack: never };
  const views = {} as Views;
  const routes = gatehouseRoutes('http://127.0.0.1');

  it('each step, and only known route names', async () => {
    const jwk = await generateSigningKey('RS256');
    const now = new Date();
    const keySet: KeySet = {
      version: 1,
      signingKeys: [{ kid: jwk.kid, alg: 'RS256', jwk, createdAt: now, activateAt: new Date(now.getTime() - 1000), retireAt: null, removeAt: null }],
      cookieKeys: [{ id: 'c', key: 'cookie-key', createdAt: now, activateAt: new Date(now.getTime() - 1000), retireAt: null, removeAt: null }],
    };
    const provider = providerBuilder({ issuer: 'http://127.0.0.1', logger: createLogger('silent'), settings: testProviderSettings() })(keySet, now);
    const upstream = upstreamLogout({
      directory: {} as never,
      protocol: {} as never,
      sessions: {} as never,
      views,
      box: {} as never,
      paths: { upstream: '/upstream' } as never,
      audit: { record: () => {} } as never,
      logger: createLogger('silent'),
      publicOrigin: 'http://127.0.0.1',
      signedOutUrl: 'http://127.0.0.1/signed-out',
      secureCookies: false,
    } as never);
    const steps: Array<[string, AfterResponseStep]> = [
      ['exchangedTokensFollowTheirOrigin', exchangedTokensFollowTheirOrigin],
      ['countClientAuthFailures', countClientAuthFailures(provider, limiter, createLogger('silent'))],
      ['widenFormActionForClient', widenFormActionForClient],
      ['introspectionClaims', introspectionClaims({ findActive: never }, Buffer.alloc(32))],
      ['consumePushedRequestOnFirstUse', consumePushedRequestOnFirstUse],
      ['signOutWithoutSession', signOutWithoutSession({ httpOnly: true, sameSite: 'lax' })],
      ['listGrantWhileInUse', listGrantWhileInUse('password', never)],
      ['completeRefreshRotations', completeRefreshRotations(never)],
      ['allowCredentialedTokenRequests', allowCredentialedTokenRequests],
      ['envelopeRefreshTokens', envelopeRefreshTokens],
      ['notFoundPageStep', notFoundPageStep(views)],
      ['answerWrongMethods', answerWrongMethods(routes, { token: ['POST'] })],
      ['upstreamLogout', upstream.afterResponse],
      ['listWhileOn', listWhileOn('prompt_values_supported', 'create', never)],
    ];
    for (const [name, step] of steps) {
      expect(step.routes.length, `${name} names its routes`).to.be.greaterThan(0);
      for (const route of step.routes) {
        expect(ROUTES, `${name}: ${route}`).to.include(route);
        if (route === NO_ROUTE) continue;
        // The provider's router knows each name (an unknown one throws).
        expect(() => provider.pathFor(route, { uid: 'x' }), `${name}: ${route}`).not.to.throw();
      }
    }
  });
});
