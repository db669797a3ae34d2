import { expect } from 'chai';
import type { Context } from 'koa';
import { stepMiddleware } from '../../src/oidc/after-response.ts';
import { listWhileOn } from '../../src/oidc/discovery-list.ts';

/** A response as the provider leaves it on `route`, run through the step. */
async function respond(step: ReturnType<typeof listWhileOn>, body: Record<string, unknown>, { route = 'discovery', status = 200 } = {}): Promise<unknown> {
  const ctx = { oidc: { route }, status, body: undefined as unknown } as unknown as Context;
  await stepMiddleware(step)(ctx, async () => {
    ctx.body = body;
    ctx.status = status;
  });
  return ctx.body;
}

describe('a discovery value listed while a setting is on (listWhileOn)', () => {
  it('drops the value from its own list while off and keeps every other field', async () => {
    let on = false;
    const step = listWhileOn('prompt_values_supported', 'create', async () => on);
    const body = { prompt_values_supported: ['none', 'login', 'create'], grant_types_supported: ['create'] };
    expect(await respond(step, body)).to.deep.equal({ prompt_values_supported: ['none', 'login'], grant_types_supported: ['create'] });
    on = true;
    expect(await respond(step, body)).to.deep.equal(body);
  });

  it('works on the grant list as on the prompt list', async () => {
    const step = listWhileOn('grant_types_supported', 'password', async () => false);
    expect(await respond(step, { grant_types_supported: ['authorization_code', 'password'] })).to.deep.equal({ grant_types_supported: ['authorization_code'] });
  });

  it('asks nothing when the value is not listed, on other routes or on errors', async () => {
    let asked = 0;
    const step = listWhileOn('prompt_values_supported', 'create', async () => (asked++, false));
    expect(await respond(step, { prompt_values_supported: ['none'] })).to.deep.equal({ prompt_values_supported: ['none'] });
    expect(await respond(step, { prompt_values_supported: ['create'] }, { route: 'token' })).to.deep.equal({ prompt_values_supported: ['create'] });
    expect(await respond(step, { prompt_values_supported: ['create'] }, { status: 500 })).to.deep.equal({ prompt_values_supported: ['create'] });
    expect(asked).to.equal(0);
  });
});
