import { expect } from 'chai';
import { copyJson } from '../../src/cache/json-copy.ts';

describe('copyJson: a deep copy of parsed JSON (the record cache hands one to every reader)', () => {
  const record = () =>
    JSON.parse(
      JSON.stringify({ kind: 'Grant', jti: 'g1', exp: 1764473600, openid: { scope: 'openid', claims: ['sub', 'sid'] }, resources: { 'https://api.example.com': 'read' }, rejected: {}, flag: true, none: null, nested: [[1, { a: 'b' }], []] }),
    ) as Record<string, unknown>;

  it('gives what a JSON round trip gives', () => {
    const original = record();
    expect(copyJson(original)).to.deep.equal(JSON.parse(JSON.stringify(original)));
  });

  it('shares no object or array with the original: mutating a copy leaves the next copy intact', () => {
    const original = record();
    const first = copyJson(original) as { openid: { claims: string[] }; resources: Record<string, string>; nested: unknown[][] };
    expect(first).not.to.equal(original);
    first.openid.claims.push('email');
    first.resources['https://other.example'] = 'write';
    (first.nested[0]![1] as { a: string }).a = 'changed';
    expect(copyJson(original)).to.deep.equal(record());
  });

  it('keeps every object\'s keys in their order, integer-like keys included', () => {
    const original = JSON.parse('{"b":1,"10":2,"a":{"z":1,"2":2,"y":3},"1":4}') as Record<string, unknown>;
    const copy = copyJson(original);
    expect(Object.keys(copy)).to.deep.equal(Object.keys(original));
    expect(Object.keys(copy.a as object)).to.deep.equal(['2', 'z', 'y']);
    expect(JSON.stringify(copy)).to.equal(JSON.stringify(original));
  });

  it('passes primitives and null through', () => {
    expect(copyJson('text')).to.equal('text');
    expect(copyJson(3)).to.equal(3);
    expect(copyJson(null)).to.equal(null);
    expect(copyJson(false)).to.equal(false);
  });

  it('copies an own "__proto__" key as a key, never as the copy\'s prototype (as JSON.parse made it)', () => {
    // A stored record holds what clients sent (claims requests, extra parameters): JSON.parse keeps
    // "__proto__" as an own key, and a plain assignment of it would set the copy's prototype.
    const original = JSON.parse('{"claims":{"__proto__":{"admin":true},"email":null}}') as { claims: Record<string, unknown> };
    const copy = copyJson(original);
    expect(Object.getPrototypeOf(copy.claims)).to.equal(Object.prototype);
    expect((copy.claims as { admin?: unknown }).admin).to.equal(undefined);
    expect(Object.keys(copy.claims)).to.deep.equal(['__proto__', 'email']);
    expect(Object.getOwnPropertyDescriptor(copy.claims, '__proto__')?.value).to.deep.equal({ admin: true });
    expect(JSON.stringify(copy)).to.equal(JSON.stringify(original));
  });
});
