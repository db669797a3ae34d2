import { expect } from 'chai';
import type { Context } from 'koa';
import { stepMiddleware } from '../../src/oidc/after-response.ts';
import { listGrantWhileInUse } from '../../src/oidc/grants/discovery.ts';

/** A discovery response as the provider leaves it, run through the middleware. */
async function discover(middleware: ReturnType<typeof listGrantWhileInUse>): Promise<string[]> {
  const ctx = { oidc: { route: 'discovery' }, status: 200, body: undefined as unknown } as unknown as Context & { body: { grant_types_supported: string[] } };
  await stepMiddleware(middleware)(ctx, async () => {
    ctx.body = { grant_types_supported: ['authorization_code', 'password'] };
  });
  return ctx.body.grant_types_supported;
}

describe('password grant in discovery (listGrantWhileInUse)', () => {
  it('asks the client store at most once per short interval while no client uses the grant (unauthenticated discovery cannot make it list every client each time)', async () => {
    let clock = 0;
    let lookups = 0;
    let inUse = false;
    const middleware = listGrantWhileInUse('password', async () => (lookups++, inUse), { ttlMs: 30_000, negativeTtlMs: 2_000, now: () => clock });

    const answers = await Promise.all(Array.from({ length: 20 }, () => discover(middleware)));
    for (const listed of answers) expect(listed).to.deep.equal(['authorization_code']);
    expect(lookups, 'concurrent discovery requests share one lookup').to.equal(1);

    clock += 1_999;
    await discover(middleware);
    expect(lookups).to.equal(1);

    inUse = true;
    clock += 2;
    expect(await discover(middleware)).to.deep.equal(['authorization_code', 'password']);
    expect(lookups, 'a client enabled meanwhile is advertised once the short interval has passed').to.equal(2);

    inUse = false;
    clock += 29_999;
    expect(await discover(middleware)).to.include('password');
    clock += 2;
    expect(await discover(middleware)).to.deep.equal(['authorization_code']);
    expect(lookups).to.equal(3);
  });

  it('leaves other endpoints alone', async () => {
    let lookups = 0;
    const middleware = listGrantWhileInUse('password', async () => (lookups++, false));
    const ctx = { oidc: { route: 'token' }, status: 200, body: undefined as unknown } as unknown as Context;
    await stepMiddleware(middleware)(ctx, async () => {
      ctx.body = { grant_types_supported: ['password'] };
    });
    expect(ctx.body).to.deep.equal({ grant_types_supported: ['password'] });
    expect(lookups).to.equal(0);
  });
});
