import { expect } from 'chai';
import Provider, { type Configuration } from 'oidc-provider';
import { reuseScopeFilters, SCOPE_FILTERS_KEPT } from '../../src/oidc/scope-filters.ts';

const ISSUER = 'http://localhost:3000';
const PROFILE = ['name', 'given_name', 'family_name', 'preferred_username', 'updated_at'];

/** What the account releases at most: more than any one scope asks for. */
const AVAILABLE = Object.freeze({
  sub: 'alice',
  name: 'Alice Liddell',
  given_name: 'Alice',
  family_name: 'Liddell',
  preferred_username: 'alice',
  updated_at: 1_700_000_000,
  email: 'alice@example.com',
  email_verified: true,
  phone_number: '+15550100',
  roles: ['reader'],
  groups: ['staff'],
});

const CLAIMS: NonNullable<Configuration['claims']> = {
  openid: ['sub', 'acr', 'amr'],
  profile: PROFILE,
  email: ['email', 'email_verified'],
  phone: ['phone_number'],
  roles: ['roles'],
  groups: ['groups'],
};

function provider(claims: NonNullable<Configuration['claims']> = CLAIMS): Provider {
  return new Provider(ISSUER, {
    clients: [
      { client_id: 'app', client_secret: 'secret', redirect_uris: ['http://localhost/cb'] },
      { client_id: 'pairwise', client_secret: 'secret', redirect_uris: ['http://localhost/cb'], subject_type: 'pairwise' },
    ],
    claims,
    scopes: ['openid', 'offline_access', ...Object.keys(claims).filter((scope) => scope !== 'openid')],
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: (_ctx, accountId, client) => `${accountId}@${client.clientId}`,
  });
}

interface Request {
  readonly scope: string;
  readonly mask?: Record<string, unknown>;
  readonly rejected?: string[];
  readonly client?: string;
  readonly available?: Record<string, unknown>;
}

/** What userinfo does with the provider's Claims class (lib/actions/userinfo.js `respond`). */
async function release(subject: Provider, { scope, mask = {}, rejected = [], client: clientId = 'app', available = AVAILABLE }: Request): Promise<Record<string, unknown>> {
  const client = await subject.Client.find(clientId);
  const claims = new subject.Claims({ ...available }, { client: client! });
  claims.scope(scope);
  claims.mask(mask);
  claims.rejected(rejected);
  return claims.result();
}

describe('provider Claims: a scope value merged once (src/oidc/scope-filters.ts)', () => {
  const requests: Request[] = [
    { scope: 'openid profile email' },
    { scope: 'openid' },
    // The claims parameter names a claim no scope releases, for this request only.
    { scope: 'openid profile email', mask: { phone_number: null } },
    { scope: 'openid profile email' },
    // A claim the user did not consent to.
    { scope: 'openid profile email', rejected: ['email'] },
    { scope: 'openid profile email' },
    { scope: 'openid roles groups', mask: { email: { essential: true } } },
    { scope: 'openid roles groups' },
    { scope: '' },
    { scope: 'openid email profile' },
  ];

  it('releases what the library releases, request after request with the same scope: a request\'s mask and rejected claims stay its own', async () => {
    const library = provider();
    const kept = provider();
    reuseScopeFilters(kept);
    // Twice through: the second pass starts every scope value from its kept filter. The answer
    // goes out as JSON, so the claims' order is compared too (deep.equal ignores it).
    for (const request of [...requests, ...requests]) {
      expect(JSON.stringify(await release(kept, request)), JSON.stringify(request)).to.equal(JSON.stringify(await release(library, request)));
    }
    expect(await release(kept, { scope: 'openid profile email' })).to.have.all.keys('sub', ...PROFILE, 'email', 'email_verified');
  });

  it('releases what the library releases for an account with fewer claims, a pairwise client and aggregated claims', async () => {
    const library = provider();
    const kept = provider();
    reuseScopeFilters(kept);
    const aggregated = { ...AVAILABLE, _claim_names: { email: 'src1', phone_number: 'src1' }, _claim_sources: { src1: { JWT: 'e30.e30.' } } };
    const requests: Request[] = [
      { scope: 'openid profile email', available: { sub: 'bob', email: 'bob@example.com', preferred_username: 'bob' } },
      // The library's pairwiseIdentifier gives the client its own `sub`.
      { scope: 'openid profile email', client: 'pairwise' },
      { scope: 'openid email', available: aggregated },
      { scope: 'openid profile email', available: { sub: 'carol', _claim_names: { email: 'src1' } } },
    ];
    for (const request of [...requests, ...requests]) {
      expect(JSON.stringify(await release(kept, request)), JSON.stringify(request)).to.equal(JSON.stringify(await release(library, request)));
    }
    expect(await release(kept, { scope: 'openid email', client: 'pairwise' })).to.include({ sub: 'alice@pairwise' });
    expect(await release(kept, { scope: 'openid email', available: aggregated })).to.have.property('_claim_names');
  });

  it('each request gets an answer of its own, and the kept filter cannot be changed through a request', async () => {
    const kept = provider();
    reuseScopeFilters(kept);
    const client = await kept.Client.find('app');
    const first = await release(kept, { scope: 'openid email' });
    first.email = 'changed@example.com';
    expect(await release(kept, { scope: 'openid email' })).to.include({ email: 'alice@example.com' });
    const claims = new kept.Claims({ ...AVAILABLE }, { client: client! });
    claims.scope('openid email');
    const filter = (claims as unknown as { filter: Record<string, unknown> }).filter;
    expect(() => {
      filter.phone_number = null;
    }).to.throw(TypeError);
    expect(Object.keys(await release(kept, { scope: 'openid email' }))).to.deep.equal(['sub', 'email', 'email_verified']);
  });

  it('the ID token (models/id_token.js) builds its claims from the same class', async () => {
    const kept = provider();
    reuseScopeFilters(kept);
    const client = await kept.Client.find('app');
    for (let i = 0; i < 2; i += 1) {
      const token = new kept.IdToken({ ...AVAILABLE }, { client: client! }) as unknown as Record<string, unknown>;
      token.scope = 'openid email';
      token.mask = i === 0 ? { roles: null } : {};
      token.rejected = [];
      const payload = await (token as unknown as { payload(): Promise<Record<string, unknown>> }).payload();
      expect(Object.keys(payload).sort()).to.deep.equal(i === 0 ? ['email', 'email_verified', 'roles', 'sub'] : ['email', 'email_verified', 'sub']);
    }
  });

  it('a scope after a mask is refused, as the library refuses it', async () => {
    const kept = provider();
    reuseScopeFilters(kept);
    const client = await kept.Client.find('app');
    await release(kept, { scope: 'openid email' });
    const claims = new kept.Claims({ ...AVAILABLE }, { client: client! });
    claims.mask({ email: null });
    expect(() => claims.scope('openid email')).to.throw('scope cannot be assigned after mask has been set');
  });

  it('a configuration whose claims carry objects is merged by the library every time, as without the kept filters', async () => {
    const nested = { ...CLAIMS, email: { email: { essential: true }, email_verified: null } } as unknown as NonNullable<Configuration['claims']>;
    // The same requests on both: the library's merge hands each filter the configuration's own
    // nested object (and a claims parameter merges into it); kept filters must change nothing of that.
    const filters = async (subject: Provider) => {
      const client = await subject.Client.find('app');
      const seen: unknown[] = [];
      for (const mask of [{ email: { value: 'x' } }, {}]) {
        const claims = new subject.Claims({ ...AVAILABLE }, { client: client! });
        claims.scope('openid email');
        seen.push(structuredClone((claims as unknown as { filter: Record<string, unknown> }).filter));
        claims.mask(mask);
        seen.push(await claims.result());
      }
      return seen;
    };
    const kept = provider(nested);
    reuseScopeFilters(kept);
    expect(await filters(kept)).to.deep.equal(await filters(provider(nested)));
  });

  it(`keeps at most ${SCOPE_FILTERS_KEPT} scope values; later ones are merged as the library merges them`, async () => {
    const library = provider();
    const kept = provider();
    const filters = reuseScopeFilters(kept);
    const scopes = ['profile', 'email', 'phone', 'roles', 'groups'];
    // Every order of distinct words gives another value: more than are kept.
    const values: string[] = [];
    for (let i = 0; values.length < SCOPE_FILTERS_KEPT + 20; i += 1) {
      values.push(['openid', ...scopes.filter((_, bit) => (i >> bit) & 1), `x${i}`].join(' '));
    }
    for (const scope of [...values, ...values]) {
      expect(await release(kept, { scope })).to.deep.equal(await release(library, { scope }));
    }
    expect(filters.kept()).to.equal(SCOPE_FILTERS_KEPT);
  });
});
