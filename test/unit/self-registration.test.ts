import { expect } from 'chai';
import { validUsername } from '../../src/accounts/normalize.ts';
import { usernameCandidates } from '../../src/accounts/self-registration.ts';

describe('self-registration: usernames from email addresses', () => {
  it('takes the local part, then the same with a number, all valid usernames', () => {
    const [first, ...more] = usernameCandidates('Nadia.Newcomer@example.com');
    expect(first).to.equal('Nadia.Newcomer');
    expect(more).to.have.length(5);
    for (const name of more) expect(name).to.match(/^Nadia\.Newcomer-\d{4}$/);
  });

  it('replaces what usernames may not hold and never yields an invalid or empty one', () => {
    for (const email of ['a+tag@example.com', '"quoted name"@example.com', '++@example.com', `${'x'.repeat(80)}@example.com`, 'ÅSA@example.com']) {
      for (const name of usernameCandidates(email)) expect(() => validUsername(name), `${email} → ${name}`).not.to.throw();
    }
    expect(usernameCandidates('a+tag@example.com')[0]).to.equal('a-tag');
    expect(usernameCandidates('++@example.com')[0]).to.equal('user');
  });
});
