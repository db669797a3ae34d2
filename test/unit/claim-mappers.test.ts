import { expect } from 'chai';
import { claimNameProblem, claimPath, setClaim, withoutClaims } from '../../src/claims/claim-path.ts';
import { convert } from '../../src/claims/json-types.ts';
import { claimMapping } from '../../src/claims/mapped-claims.ts';
import { claimScopeCreateSchema, showClaimScope, toMapper, type ClaimMapper, type ClaimScope } from '../../src/claims/spec.ts';
import { mapClientScopes } from '../../src/keycloak/map-client-scopes.ts';
import type { UnmappedItem } from '../../src/keycloak/export-json.ts';

/** Each issue as `path: code`, as the admin API names them. */
function problems(input: unknown): string[] {
  const result = claimScopeCreateSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((issue) => `${issue.path.join('.')}: ${(issue as { params?: { code?: string } }).params?.code ?? issue.code}`);
}

const attr = (claim: string, attribute: string, extra: Record<string, unknown> = {}) => ({ type: 'user_attribute', claim, attribute, ...extra });
const scopeOf = (name: string, mappers: unknown[]): ClaimScope => {
  const input = claimScopeCreateSchema.parse({ name, mappers });
  return { name, description: {}, mappers: input.mappers.map(toMapper), createdAt: new Date(0), updatedAt: new Date(0) };
};

describe('claim mappers: nested claim names (Keycloak Token Claim Name)', () => {
  it('splits at dots, a backslashed dot is a literal one', () => {
    expect(claimPath('department')).to.deep.equal(['department']);
    expect(claimPath('org.unit.code')).to.deep.equal(['org', 'unit', 'code']);
    expect(claimPath('https://example\\.com/team')).to.deep.equal(['https://example.com/team']);
    expect(claimPath('org.v1\\.2')).to.deep.equal(['org', 'v1.2']);
  });

  it('refuses empty levels, stray backslashes, too many levels, odd characters and standard claims at the top', () => {
    for (const bad of ['org.', '.org', 'org..unit', 'org\\', 'org\\x', 'a.b.c.d.e.f', 'org.un it', 'org.ünit', '1org', 'org.__proto__', `org.${'x'.repeat(65)}`]) {
      expect(claimNameProblem(bad), bad).to.equal('mapped_claim_name');
    }
    for (const reserved of ['address.street', 'Address.street', 'sub', 'realm_access.roles', 'email.y']) {
      expect(claimNameProblem(reserved), reserved).to.equal('reserved_claim_name');
    }
    // Below the top, any level: a nested `sub` overwrites nothing of the token's.
    for (const good of ['org.sub', 'org.unit', 'a.b.c.d.e', 'https://example\\.com/team', 'tenant-id', 'x:y/z']) expect(claimNameProblem(good), good).to.equal(undefined);
  });

  it('the admin API schema names the problem, and a mapper inside or around another of the scope', () => {
    expect(problems({ name: 'hr', mappers: [attr('org..unit', 'unit')] })).to.deep.equal(['mappers.0.claim: mapped_claim_name']);
    expect(problems({ name: 'hr', mappers: [attr('address.street', 'street')] })).to.deep.equal(['mappers.0.claim: reserved_claim_name']);
    expect(problems({ name: 'hr', mappers: [attr('org.unit', 'unit'), attr('org', 'org')] })).to.deep.equal(['mappers.1.claim: claim_overlaps']);
    expect(problems({ name: 'hr', mappers: [attr('org', 'org'), attr('org.unit.code', 'code')] })).to.deep.equal(['mappers.1.claim: claim_overlaps']);
    expect(problems({ name: 'hr', mappers: [attr('org.unit', 'unit'), attr('org.unit', 'other')] })).to.deep.equal(['mappers.1.claim: claim_twice']);
    expect(problems({ name: 'hr', mappers: [attr('org.unit', 'unit'), attr('org.site', 'site'), attr('org\\.unit', 'flat')] })).to.deep.equal([]);
  });

  it('several mappers fill one object; a literal dot stays in the name', () => {
    const mapping = claimMapping([scopeOf('org', [attr('org.unit', 'unit'), attr('org.site.city', 'city'), attr('org\\.flat', 'flat'), { type: 'hardcoded', claim: 'org.tenant', value: 'acme' }])]);
    expect(mapping.scopeClaims).to.deep.equal({ org: ['org', 'org.flat'] });
    const claims = mapping.claimsFor('userinfo', ['org'], { unit: 'eng', city: 'Berlin', flat: 'x' });
    expect(claims).to.deep.equal({ org: { unit: 'eng', site: { city: 'Berlin' }, tenant: 'acme' }, 'org.flat': 'x' });
    // An attribute the user lacks leaves its level out, not an empty object.
    expect(mapping.claimsFor('userinfo', ['org'], {})).to.deep.equal({ org: { tenant: 'acme' } });
  });

  it('setClaim makes the objects on the way; withoutClaims copies, never changes what it is given', () => {
    const claims: Record<string, unknown> = {};
    setClaim(claims, ['a', 'b'], 1);
    setClaim(claims, ['a', 'c'], 2);
    expect(claims).to.deep.equal({ a: { b: 1, c: 2 } });
    const frozen = Object.freeze({ a: Object.freeze({ b: 1, c: 2 }), d: 3 });
    expect(withoutClaims(frozen, [['a', 'b']])).to.deep.equal({ a: { c: 2 }, d: 3 });
    expect(withoutClaims(frozen, [['a', 'b'], ['a', 'c']])).to.deep.equal({ d: 3 });
    expect(withoutClaims(frozen, [['x'], ['a', 'z'], ['d', 'e']])).to.equal(frozen);
  });
});

describe('claim mappers: JSON types of user attributes (Keycloak Claim JSON Type)', () => {
  it('converts texts to numbers, booleans and JSON; what does not convert is undefined', () => {
    expect(convert('string', '42')).to.equal('42');
    expect(convert('long', '42')).to.equal(42);
    expect(convert('long', '-9007199254740991')).to.equal(-9007199254740991);
    expect(convert('long', '+7')).to.equal(7);
    expect(convert('long', '-0')).to.equal(0);
    for (const bad of ['', ' 42', '4.2', '1e3', '0x10', 'abc', '9007199254740992']) expect(convert('long', bad), bad).to.equal(undefined);
    expect(convert('int', '2147483647')).to.equal(2147483647);
    expect(convert('int', '2147483648')).to.equal(undefined);
    expect(convert('int', '-2147483648')).to.equal(-2147483648);
    expect(convert('boolean', 'true')).to.equal(true);
    expect(convert('boolean', 'FALSE')).to.equal(false);
    expect(convert('boolean', 'yes')).to.equal(undefined);
    expect(convert('json', '{"a":[1,2]}')).to.deep.equal({ a: [1, 2] });
    expect(convert('json', '7')).to.equal(7);
    expect(convert('json', 'null')).to.equal(undefined);
    expect(convert('json', '{oops')).to.equal(undefined);
  });

  it('a typed claim in the tokens; a value that does not convert is left out (a list keeps the others)', () => {
    const mapping = claimMapping([
      scopeOf('typed', [
        attr('admin', 'admin', { json_type: 'boolean' }),
        attr('level', 'level', { json_type: 'int' }),
        attr('prefs', 'prefs', { json_type: 'json' }),
        attr('codes', 'codes', { json_type: 'long', multivalued: true }),
        attr('raw', 'level'),
      ]),
    ]);
    expect(mapping.claimsFor('id_token', ['typed'], { admin: 'true', level: '3', prefs: '{"theme":"dark"}', codes: ['1', 'x', '3'] })).to.deep.equal({ admin: true, level: 3, prefs: { theme: 'dark' }, codes: [1, 3], raw: '3' });
    expect(mapping.claimsFor('id_token', ['typed'], { admin: 'maybe', level: 'high', prefs: '{', codes: ['x'] })).to.deep.equal({ raw: 'high' });
  });
});

describe('claim mappers: the introspection flag (Keycloak "Add to token introspection")', () => {
  it('defaults to access_token (Keycloak\'s rule without the setting) and is shown by the admin API', () => {
    const [plain, noAccess, onlyIntrospection] = claimScopeCreateSchema.parse({
      name: 'x',
      mappers: [attr('a', 'a'), attr('b', 'b', { access_token: false }), attr('c', 'c', { access_token: false, introspection: true })],
    }).mappers.map(toMapper) as [ClaimMapper, ClaimMapper, ClaimMapper];
    expect([plain.introspection, noAccess.introspection, onlyIntrospection.introspection]).to.deep.equal([true, false, true]);
    const shown = showClaimScope({ name: 'x', description: {}, mappers: [onlyIntrospection], createdAt: new Date(0), updatedAt: new Date(0) });
    expect(shown.mappers[0]).to.include({ access_token: false, introspection: true, json_type: 'string' });
  });

  it('the record keeps both; the JWT and the introspection answer each lose the other\'s own', () => {
    const mapping = claimMapping([
      scopeOf('s', [
        attr('both', 'v'),
        attr('org.jwt', 'v', { introspection: false }),
        attr('org.seen', 'v', { access_token: false, introspection: true }),
        attr('none', 'v', { access_token: false }),
      ]),
    ]);
    const record = mapping.claimsFor('access_token_record', ['s'], { v: 'x' });
    expect(record).to.deep.equal({ both: 'x', org: { jwt: 'x', seen: 'x' } });
    expect(mapping.strip('access_token', record)).to.deep.equal({ both: 'x', org: { jwt: 'x' } });
    expect(mapping.strip('introspection', record)).to.deep.equal({ both: 'x', org: { seen: 'x' } });
    expect(record, 'unchanged').to.deep.equal({ both: 'x', org: { jwt: 'x', seen: 'x' } });
    expect(mapping.claimsFor('access_token', ['s'], { v: 'x' })).to.deep.equal({ both: 'x', org: { jwt: 'x' } });
    expect(mapping.claimsFor('introspection', ['s'], { v: 'x' })).to.deep.equal({ both: 'x', org: { seen: 'x' } });
    expect(claimMapping([scopeOf('s', [attr('both', 'v')])]).strips('introspection')).to.equal(false);
  });
});

describe('Keycloak import: mapper settings carried over', () => {
  const mapper = (name: string, protocolMapper: string, config: Record<string, string>) => ({ name, protocol: 'openid-connect', protocolMapper, config });
  const ua = (name: string, config: Record<string, string>) => mapper(name, 'oidc-usermodel-attribute-mapper', { 'id.token.claim': 'true', 'access.token.claim': 'true', 'userinfo.token.claim': 'true', ...config });

  it('introspection, JSON types and nested names; lightweight.claim needs nothing; what Gatehouse refuses is reported by mapper name', () => {
    const unmapped: UnmappedItem[] = [];
    const mapped = mapClientScopes(
      {
        clientScopes: [
          {
            name: 'hr',
            protocol: 'openid-connect',
            protocolMappers: [
              ua('unit', { 'user.attribute': 'unit', 'claim.name': 'org.unit', 'jsonType.label': 'String', 'introspection.token.claim': 'false', 'lightweight.claim': 'true' }),
              ua('site', { 'user.attribute': 'site', 'claim.name': 'org.site', 'jsonType.label': 'String' }),
              ua('admin', { 'user.attribute': 'admin', 'claim.name': 'is_admin', 'jsonType.label': 'boolean', 'access.token.claim': 'false' }),
              ua('seen', { 'user.attribute': 'seen', 'claim.name': 'seen', 'access.token.claim': 'false', 'introspection.token.claim': 'true' }),
              ua('level', { 'user.attribute': 'level', 'claim.name': 'level', 'jsonType.label': 'long' }),
              ua('prefs', { 'user.attribute': 'prefs', 'claim.name': 'prefs', 'jsonType.label': 'JSON' }),
              ua('flat', { 'user.attribute': 'flat', 'claim.name': 'https://example\\.com/flat', 'jsonType.label': 'int' }),
              ua('street', { 'user.attribute': 'street', 'claim.name': 'address.street' }),
              ua('whole org', { 'user.attribute': 'org', 'claim.name': 'org' }),
              ua('odd', { 'user.attribute': 'odd', 'claim.name': 'odd', 'jsonType.label': 'double' }),
            ],
          },
          { name: 'other', protocol: 'openid-connect', protocolMappers: [ua('org city', { 'user.attribute': 'city', 'claim.name': 'org.city' })] },
        ],
      },
      unmapped,
    );
    const hr = mapped.claimScopes.find((scope) => scope.name === 'hr')!;
    const byClaim = Object.fromEntries(hr.input.mappers.map((one) => [one.claim, one]));
    expect(Object.keys(byClaim)).to.deep.equal(['org.unit', 'org.site', 'is_admin', 'seen', 'level', 'prefs', 'https://example\\.com/flat', 'odd']);
    expect(byClaim['org.unit']).to.include({ json_type: 'string', access_token: true, introspection: false });
    expect(byClaim['org.site']).to.include({ introspection: true });
    expect(byClaim.is_admin).to.include({ json_type: 'boolean', access_token: false, introspection: false });
    expect(byClaim.seen).to.include({ access_token: false, introspection: true });
    expect(byClaim.level).to.include({ json_type: 'long' });
    expect(byClaim.prefs).to.include({ json_type: 'json' });
    expect(byClaim['https://example\\.com/flat']).to.include({ json_type: 'int' });
    const reasons = unmapped.map((item) => `${item.name}: ${item.reason}`);
    expect(reasons.find((reason) => reason.includes('mapper street'))).to.match(/claim: is a standard or protocol claim/);
    expect(reasons.find((reason) => reason.includes('mapper whole org'))).to.match(/lies inside or around claim org\.unit/);
    // Keycloak converts String, long, int, boolean and JSON; any other type (double) it emits the text as it is.
    expect(byClaim.odd).to.include({ json_type: 'string' });
    expect(reasons.find((reason) => reason.includes('mapper org city'))).to.match(/claim org is given by client scope hr already/);
    expect(reasons.filter((reason) => reason.includes('lightweight'))).to.deep.equal([]);
  });

  it("hardcoded claims in Keycloak's JSON types: double as the text (Keycloak emits it unconverted), long/int only whole numbers in range, boolean any case", () => {
    const hard = (name: string, value: string, jsonType: string) => mapper(name, 'oidc-hardcoded-claim-mapper', { 'claim.name': name, 'claim.value': value, 'jsonType.label': jsonType, 'access.token.claim': 'true' });
    const unmapped: UnmappedItem[] = [];
    const mapped = mapClientScopes(
      {
        clientScopes: [
          {
            name: 'fixed',
            protocol: 'openid-connect',
            protocolMappers: [
              hard('ratio', '1.5', 'double'),
              hard('level', '-42', 'long'),
              hard('shares', '7', 'int'),
              hard('flag', 'TRUE', 'boolean'),
              hard('half', '1.5', 'long'),
              hard('big', '3000000000', 'int'),
              hard('hexed', '0x10', 'int'),
              hard('word', 'yes', 'boolean'),
            ],
          },
        ],
      },
      unmapped,
    );
    const values = Object.fromEntries(mapped.claimScopes[0]!.input.mappers.map((one) => [one.claim, (one as { value?: unknown }).value]));
    expect(values).to.deep.equal({ ratio: '1.5', level: -42, shares: 7, flag: true });
    const reasons = unmapped.map((item) => item.reason);
    expect(reasons.find((reason) => reason.includes('mapper half'))).to.include('claim value 1.5 is not a long');
    expect(reasons.find((reason) => reason.includes('mapper big'))).to.include('claim value 3000000000 is not a int');
    expect(reasons.find((reason) => reason.includes('mapper hexed'))).to.include('claim value 0x10 is not a int');
    expect(reasons.find((reason) => reason.includes('mapper word'))).to.include('claim value yes is not a boolean');
  });
});
