import { expect } from 'chai';
import { signInName } from '../../src/interactions/sign-in-fields.ts';

describe('the sign-in name from a form (src/interactions/sign-in-fields.ts)', () => {
  it("reads Keycloak's field name, username, trimmed", () => {
    expect(signInName({ username: '  ada@example.com ' })).to.equal('ada@example.com');
  });

  it('still reads login, the field name of earlier pages, when username is absent', () => {
    expect(signInName({ login: 'ada' })).to.equal('ada');
  });

  it('prefers username when a form carries both', () => {
    expect(signInName({ username: 'ada', login: 'grace' })).to.equal('ada');
  });

  it('is empty when neither is given', () => {
    expect(signInName({ password: 'x' })).to.equal('');
  });
});
