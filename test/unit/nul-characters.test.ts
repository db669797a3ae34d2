import { expect } from 'chai';
import { InvalidRequestError } from '../../src/errors/gatehouse-error.ts';
import { nulPath, refuseNulCharacters, refuseUnstorableText } from '../../src/errors/nul-characters.ts';

/** `depth` arrays one inside the other, `inner` at the bottom (what JSON.parse builds from `[[[...]]]`). */
function nested(depth: number, inner: unknown): unknown {
  let value = inner;
  for (let level = 0; level < depth; level += 1) value = [value];
  return value;
}

describe('NUL characters in request input (src/errors/nul-characters.ts)', () => {
  it('names the first string or key holding a NUL by its path', () => {
    expect(nulPath({ a: 'x', b: ['y', 'z\u0000'] })).to.equal('b.1');
    expect(nulPath({ a: { 'k\u0000': 1 } })).to.equal('a.k\u0000');
    expect(nulPath({ a: ['x\u0000'], 'b\u0000': 1 })).to.equal('a.0');
    expect(nulPath({ 'a\u0000': 1, b: ['x\u0000'] })).to.equal('a\u0000');
    expect(nulPath('x\u0000')).to.equal('');
    expect(nulPath({ a: 'x', b: [1, null, true, { c: 'd' }] })).to.equal(undefined);
    expect(() => refuseNulCharacters({ name: 'r\u0000' })).to.throw(InvalidRequestError, 'name: must not contain a NUL character');
  });

  // A 20 kB account API body `{"name":[[[...]]]}` overflowed the stack (RangeError: a 500).
  it('walks deeply nested input without overflowing the stack', () => {
    const depth = 20_000;
    expect(nulPath(JSON.parse(`{"name":${'['.repeat(depth)}${']'.repeat(depth)}}`))).to.equal(undefined);
    expect(nulPath({ name: nested(depth, 'x') })).to.equal(undefined);
    expect(nulPath({ name: nested(3, { deep: 'x\u0000' }) })).to.equal('name.0.0.0.deep');
    expect(nulPath({ name: nested(depth, 'x\u0000') })!.split('.')).to.have.length(depth + 1);
  });

  // JSON may escape half of a character ("\ud800"); stored as UTF-8 it became U+FFFD, not what was sent.
  it('refuseUnstorableText: a NUL or a lone surrogate in a value or a key, named by its path and code; a whole pair (an emoji) passes', () => {
    const refusal = (value: unknown) => {
      try {
        refuseUnstorableText(value);
        return undefined;
      } catch (error) {
        expect(error).to.be.instanceOf(InvalidRequestError);
        const detail = (error as InvalidRequestError).details[0]!;
        return `${detail.path} ${detail.code}`;
      }
    };
    expect(refusal({ name: 'Billing \u{1F4B8}', tags: ['a', { b: 'c' }] })).to.equal(undefined);
    expect(refusal({ name: 'x\ud800' })).to.equal('name lone_surrogate');
    expect(refusal({ list: ['ok', 'y\udc00z'] })).to.equal('list.1 lone_surrogate');
    expect(refusal({ ['k\ud83d']: 1 })).to.equal('k\ud83d lone_surrogate');
    expect(refusal({ a: 'r\u0000' })).to.equal('a nul_character');
    expect(refusal({ a: 'x\ud800', b: 'y\u0000' }), 'the first found').to.equal('a lone_surrogate');
    expect(refusal({ name: nested(20_000, 'x\udfff') })).to.match(/^name(\.0)+ lone_surrogate$/);
    // The NUL-only check stays as it was (the Keycloak import reports such users itself).
    expect(() => refuseNulCharacters({ name: 'x\ud800' })).not.to.throw();
  });
});
