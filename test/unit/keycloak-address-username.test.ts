import { expect } from 'chai';
import { validUsername } from '../../src/accounts/normalize.ts';
import { userIdentity } from '../../src/keycloak/user-identity.ts';

/**
 * A Keycloak user whose username is an email address is imported under a username made from its
 * local part, cut to 60 code units (addressUsernames adds `-2`, … within the 64 a username may
 * have). The cut went by code units: a letter outside the BMP (𠮷, U+20BB7, two units) across the
 * boundary left half of it — a username the admin API's rule refuses (tails25).
 */
const baseOf = (username: string) => {
  const identity = userIdentity({ id: 'u1', username } as never, 0);
  if (!identity.ok || identity.address === undefined) throw new Error(`not an address username: ${JSON.stringify(identity)}`);
  return identity.address.base;
};

describe('Keycloak import: a username made from an address is cut by whole characters', () => {
  it('leaves out a character that does not fit whole, and the name is one the admin API takes', () => {
    const base = baseOf(`${'a'.repeat(59)}𠮷x@example.com`);
    expect(base).to.equal('a'.repeat(59));
    expect(validUsername(base)).to.equal(base);
  });

  it('keeps one that fits', () => {
    const base = baseOf(`${'a'.repeat(58)}𠮷x@example.com`);
    expect(base).to.equal(`${'a'.repeat(58)}𠮷`);
    expect(validUsername(base)).to.equal(base);
  });
});
