import { expect } from 'chai';
import Provider, { errors } from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import introspection from 'oidc-provider/lib/actions/introspection.js';
import revocation from 'oidc-provider/lib/actions/revocation.js';
import rejectStructuredTokens from 'oidc-provider/lib/shared/reject_structured_tokens.js';
import { checkOnlyJwtShapedTokensForStructure, inStructuredTokenCheckPlace, rejectStructuredTokensOfJwtShape } from '../../src/oidc/opaque-token-check.ts';

const ISSUER = 'http://localhost:3000';
const HEADER = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'at+jwt' })).toString('base64url');

/** What the step is handed: a context with the token as the library assembled it. */
function contextWith(token: unknown): KoaContextWithOIDC {
  return { oidc: { params: { token }, route: 'introspection' } } as unknown as KoaContextWithOIDC;
}

/** 'next' when the step went on, else the error it threw (the step as a Koa middleware: sync or async). */
async function outcome(step: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => unknown, token: unknown): Promise<string | Error> {
  let went = false;
  try {
    await step(contextWith(token), async () => {
      went = true;
    });
  } catch (error) {
    return error as Error;
  }
  return went ? 'next' : 'stopped';
}

async function serve(provider: Provider, path: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const server = provider.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('app:secret').toString('base64')}` },
      body,
    });
    const text = await response.text();
    // Revocation answers 200 with an empty body.
    return { status: response.status, json: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
  } finally {
    server.close();
  }
}

describe('introspection and revocation: an opaque token is told from a JWT without a thrown error (src/oidc/opaque-token-check.ts)', () => {
  // Every shape of token: opaque ids, record ids, one to six parts, a real JWT header, junk in three parts, empty parts.
  const tokens = [
    'opaque-token-id',
    'kq3Jf0a8q2m1Z9xYwVvUuTtSsRrQqPpOoNnMmLlKkJj',
    'a.b',
    `${HEADER}.e30`,
    `${HEADER}.e30.sig`,
    'a.b.c',
    '..',
    '.',
    `${HEADER}.e30.sig.x`,
    `${HEADER}.e30.iv.ct.tag`,
    'a.b.c.d.e',
    '....',
    `${HEADER}.e30.iv.ct.tag.f`,
    '.....',
    '',
  ];

  it('answers every token as the library\'s own check does: on for non-JWTs, unsupported_token_type for JWTs', async () => {
    for (const token of tokens) {
      const library = await outcome(rejectStructuredTokens as never, token);
      const ours = await outcome(rejectStructuredTokensOfJwtShape, token);
      if (library instanceof Error) {
        expect(ours, token).to.be.instanceOf(errors.UnsupportedTokenType);
        expect((ours as Error).message, token).to.equal(library.message);
      } else expect(ours, token).to.equal(library);
    }
    // The library's check refuses a JWT-shaped token with a real header, and lets an opaque one through.
    expect(await outcome(rejectStructuredTokens as never, `${HEADER}.e30.sig`)).to.be.instanceOf(errors.UnsupportedTokenType);
    expect(await outcome(rejectStructuredTokens as never, 'opaque-token-id')).to.equal('next');
  });

  it('goes on for a token that cannot be a JWT without the error the library\'s check builds and catches', async () => {
    const original = globalThis.TypeError;
    let built = 0;
    // jose's decodeProtectedHeader throws `new TypeError(...)` for a token that is not three or five parts.
    globalThis.TypeError = class CountingTypeError extends original {
      constructor(...args: ConstructorParameters<typeof TypeError>) {
        super(...args);
        built += 1;
      }
    } as typeof TypeError;
    const counted = async (step: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => unknown): Promise<number> => {
      built = 0;
      expect(await outcome(step, 'kq3Jf0a8q2m1Z9xYwVvUuTtSsRrQqPpOoNnMmLlKkJj')).to.equal('next');
      return built;
    };
    try {
      expect(await counted(rejectStructuredTokens as never)).to.equal(1);
      expect(await counted(rejectStructuredTokensOfJwtShape)).to.equal(0);
    } finally {
      globalThis.TypeError = original;
    }
  });

  it('is in place of the library\'s check in the introspection and revocation actions, once', () => {
    checkOnlyJwtShapedTokensForStructure();
    checkOnlyJwtShapedTokensForStructure();
    for (const action of [introspection, revocation]) {
      expect(action).to.not.include(rejectStructuredTokens);
      expect(action.filter((step) => step === rejectStructuredTokensOfJwtShape)).to.have.length(1);
    }
  });

  it('a provider built after it introspects an unknown opaque token as inactive and refuses a JWT as the library does', async () => {
    checkOnlyJwtShapedTokensForStructure();
    const provider = new Provider(ISSUER, {
      clients: [{ client_id: 'app', client_secret: 'secret', redirect_uris: ['http://localhost/cb'], token_endpoint_auth_method: 'client_secret_basic' }],
      features: { introspection: { enabled: true }, revocation: { enabled: true } },
    });
    const opaque = await serve(provider, '/token/introspection', 'token=kq3Jf0a8q2m1Z9xYwVvUuTtSsRrQqPpOoNnMmLlKkJj');
    expect(opaque).to.deep.equal({ status: 200, json: { active: false } });
    const jwt = await serve(provider, '/token/introspection', `token=${HEADER}.e30.sig`);
    expect(jwt.status).to.equal(400);
    expect(jwt.json.error).to.equal('unsupported_token_type');
    const revoked = await serve(provider, '/token/revocation', `token=${HEADER}.e30.sig`);
    expect(revoked.json.error).to.equal('unsupported_token_type');
  });
});

describe('introspection and revocation: a provider\'s own step in place of the structured-token check (inStructuredTokenCheckPlace)', () => {
  it('runs for that provider\'s requests instead of the library\'s check, after client authentication; other providers keep the check', async () => {
    checkOnlyJwtShapedTokensForStructure();
    const options = {
      clients: [{ client_id: 'app', client_secret: 'secret', redirect_uris: ['http://localhost/cb'], token_endpoint_auth_method: 'client_secret_basic' as const }],
      features: { introspection: { enabled: true }, revocation: { enabled: true } },
    };
    const swapping = new Provider(ISSUER, options);
    const other = new Provider(ISSUER, options);
    const seen: Array<{ token: unknown; hint: unknown; client: unknown }> = [];
    inStructuredTokenCheckPlace(swapping, (ctx, next) => {
      seen.push({ token: ctx.oidc.params?.token, hint: ctx.oidc.params?.token_type_hint, client: ctx.oidc.client?.clientId });
      (ctx.oidc.params as Record<string, unknown>).token = 'swapped-id';
      return next();
    });
    const jwt = `${HEADER}.e30.sig`;
    expect(await serve(swapping, '/token/introspection', `token=${jwt}`)).to.deep.equal({ status: 200, json: { active: false } });
    expect(await serve(swapping, '/token/revocation', `token=${jwt}&token_type_hint=access_token`)).to.include({ status: 200 });
    expect(seen).to.deep.equal([
      { token: jwt, hint: undefined, client: 'app' },
      { token: jwt, hint: 'access_token', client: 'app' },
    ]);
    // The other provider (the same module's action lists) still refuses the JWT as the library does.
    const refused = await serve(other, '/token/introspection', `token=${jwt}`);
    expect(refused.json.error).to.equal('unsupported_token_type');
  });
});
