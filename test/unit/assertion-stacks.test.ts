import { expect } from 'chai';
import Provider, { errors } from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { captureStacksOfFailedAssertionsOnly } from '../../src/oidc/assertion-stacks.ts';

const ISSUER = 'http://localhost:3000';

async function serve(provider: Provider, path: string, headers: Record<string, string> = {}): Promise<Response> {
  const server = provider.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as { port: number };
    return await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  } finally {
    server.close();
  }
}

/** `ctx.assert` as the library calls it: an error to throw in place of Koa's status and message. */
type AssertWithError = (value: unknown, error: Error) => void;
type AssertHelpers = { equal(a: unknown, b: unknown, status: number): void };

/** Frames a stack lists ("    at ..." lines). */
function frames(error: Error): string[] {
  return (error.stack ?? '').split('\n').filter((line) => line.startsWith('    at '));
}

function providerWithUserinfo(): Provider {
  const provider = new Provider(ISSUER, {
    clients: [{ client_id: 'app', client_secret: 'secret', redirect_uris: ['http://localhost/cb'] }],
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  });
  captureStacksOfFailedAssertionsOnly(provider);
  return provider;
}

async function accessToken(provider: Provider): Promise<string> {
  const client = await provider.Client.find('app');
  const grant = new provider.Grant({ accountId: 'alice', clientId: 'app' });
  grant.addOIDCScope('openid');
  const grantId = await grant.save();
  const token = new provider.AccessToken({ accountId: 'alice', client: client!, grantId, scope: 'openid', gty: 'authorization_code' });
  return token.save();
}

describe('provider context: stacks captured only for assertions that fail', () => {
  const limit = Error.stackTraceLimit;
  afterEach(() => {
    Error.stackTraceLimit = limit;
  });

  it('a userinfo request builds its three InvalidTokens without walking the stack, and answers as before', async () => {
    const provider = providerWithUserinfo();
    const token = await accessToken(provider);
    const limits: number[] = [];
    const capture = Error.captureStackTrace;
    Error.captureStackTrace = function recording(target: object, constructorOpt?: Parameters<typeof capture>[1]) {
      if (target instanceof errors.InvalidToken) limits.push(Error.stackTraceLimit);
      capture(target, constructorOpt);
    };
    let response: Response;
    try {
      response = await serve(provider, '/me', { authorization: `Bearer ${token}` });
    } finally {
      Error.captureStackTrace = capture;
    }
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ sub: 'alice' });
    // access token, its client, its account: each built as ctx.assert's argument
    expect(limits).to.deep.equal([0, 0, 0]);
    expect(Error.stackTraceLimit).to.equal(limit);
  });

  it('a failed assertion throws its error with the stack of the function that asserted', async () => {
    const provider = providerWithUserinfo();
    let thrown: unknown;
    provider.use(async function checksSomething(ctx: KoaContextWithOIDC) {
      try {
        (ctx.assert as unknown as AssertWithError)(undefined, new errors.InvalidToken('access token not found'));
      } catch (error) {
        thrown = error;
        throw error;
      }
    });
    const response = await serve(provider, '/anything');
    expect(response.status).to.equal(401);
    expect(await response.text()).to.equal('invalid_token');
    expect(thrown).to.be.instanceOf(errors.InvalidToken);
    const stack = frames(thrown as Error);
    expect(stack[0]).to.contain('checksSomething');
    expect(stack.join('\n')).not.to.contain('assertAndRestore');
    expect(Error.stackTraceLimit).to.equal(limit);
  });

  it('an assertion that holds leaves its argument without frames and the limit as it was', async () => {
    const provider = providerWithUserinfo();
    let built: Error | undefined;
    let after: Error | undefined;
    provider.use((ctx: KoaContextWithOIDC) => {
      (ctx.assert as unknown as AssertWithError)(true, (built = new Error('not thrown')));
      after = new Error('built after the assertion');
      ctx.body = 'ok';
    });
    expect((await serve(provider, '/anything')).status).to.equal(200);
    expect(frames(built!)).to.deep.equal([]);
    expect(frames(after!)).not.to.deep.equal([]);
    expect(Error.stackTraceLimit).to.equal(limit);
  });

  it("Koa's status form and http-assert's helpers still work, and a read without a call gives the limit back by the next job", async () => {
    const provider = providerWithUserinfo();
    let limitAfterRead: number | undefined;
    provider.use(async (ctx: KoaContextWithOIDC) => {
      (ctx.assert as unknown as AssertHelpers).equal(1, 1, 500);
      const read = ctx.assert;
      await null;
      limitAfterRead = Error.stackTraceLimit;
      expect(read).to.be.a('function');
      ctx.assert(ctx.query.name, 400, 'name required');
    });
    const response = await serve(provider, '/anything');
    expect(response.status).to.equal(400);
    expect(limitAfterRead).to.equal(limit);
    expect(Error.stackTraceLimit).to.equal(limit);
  });
});
