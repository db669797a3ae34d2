import { expect } from 'chai';
import { InvalidUserError } from '../../src/accounts/errors.ts';
import { loginKey, validEmail } from '../../src/accounts/normalize.ts';

describe('logins and email addresses with control characters', () => {
  it('an email with a control character is refused: mail servers drop it and deliver to another mailbox (a\\u0001b@ → ab@)', () => {
    for (const email of ['a\u0001b@example.com', 'a\u0000b@example.com', 'ab@exa\u007fmple.com', 'ab@example.com\u0000x']) {
      expect(() => validEmail(email), JSON.stringify(email)).to.throw(InvalidUserError);
    }
    expect(validEmail('ab@example.com')).to.equal('ab@example.com');
    expect(validEmail('Ünïcode@例え.jp')).to.equal('Ünïcode@例え.jp');
  });

  it('an email with an invisible format character (bidi override, zero-width space, BOM, soft hyphen) or a domain ending in a dot is refused: the same mailbox as the address without it, or none', () => {
    for (const email of ['x@example.com\u202e', 'a\u202eb@example.com', 'al\u200bice@example.com', 'alice@exam\u200dple.com', 'al\u00adice@example.com', 'alice@example.com\u2066', 'demo@example.com.', 'demo@example..com', 'demo@.example.com']) {
      expect(() => validEmail(email), JSON.stringify(email)).to.throw(InvalidUserError);
    }
    expect(validEmail('demo+tag@mail.example.com')).to.equal('demo+tag@mail.example.com');
    expect(validEmail('אליס@דוגמה.ישראל')).to.equal('אליס@דוגמה.ישראל');
  });

  it('a login with a control character names nobody (looked up as a blank login, never sent to the store)', () => {
    expect(loginKey('alice\u0000')).to.equal('');
    expect(loginKey('alice\u0001@example.com')).to.equal('');
    expect(loginKey('  Alice ')).to.equal('alice');
  });
});
