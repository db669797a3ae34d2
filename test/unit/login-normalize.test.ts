import { expect } from 'chai';
import { InvalidUserError } from '../../src/accounts/errors.ts';
import { addressKey, domainKey, emailKey, loginCountKey, loginKey, validEmail } from '../../src/accounts/normalize.ts';

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

describe('internationalized email domains (one key for the Unicode and the punycode form)', () => {
  it('an address at an internationalized domain has one key in either form, the domain in its ASCII form; ASCII addresses keep the key they had', () => {
    expect(emailKey('ana@bücher.example')).to.equal('ana@xn--bcher-kva.example');
    expect(emailKey('Ana@BÜCHER.example')).to.equal('ana@xn--bcher-kva.example');
    expect(emailKey('ana@xn--bcher-kva.example')).to.equal('ana@xn--bcher-kva.example');
    expect(emailKey('ANA@XN--BCHER-KVA.EXAMPLE')).to.equal('ana@xn--bcher-kva.example');
    expect(emailKey('Ünïcode@例え.jp')).to.equal('ünïcode@xn--r8jz45g.jp');
    expect(emailKey(emailKey('ana@bücher.example')), 'idempotent').to.equal('ana@xn--bcher-kva.example');
    expect(emailKey('Alice@Example.COM')).to.equal('alice@example.com');
    // An ASCII domain is only lowercased (no WHATWG host parsing: 0x7f.1 is no IPv4 address here).
    expect(emailKey('a@0x7f.1')).to.equal('a@0x7f.1');
    expect(addressKey(' ana@bücher.example ')).to.equal(addressKey('ana@xn--bcher-kva.example'));
  });

  it('a domain the IDNA mapping refuses keeps its lowercased form (as before): no error, no empty key', () => {
    expect(emailKey('ana@münchen.٠١')).to.equal('ana@münchen.٠١');
  });

  it('domainKey compares allowed domains: either form of an internationalized domain is the same', () => {
    expect(domainKey('bücher.example')).to.equal(domainKey('XN--BCHER-KVA.example'));
    expect(domainKey('Example.COM')).to.equal('example.com');
  });

  it('a login at an internationalized domain is counted under one key in either form (no doubled guesses before a lock); a username is not touched', () => {
    expect(loginCountKey('ana@bücher.example')).to.equal(loginCountKey(' ANA@xn--bcher-kva.example'));
    expect(loginCountKey('Alice')).to.equal('alice');
    expect(loginCountKey('alice\u0000')).to.equal('');
  });

  it('validEmail keeps the address as typed (it is shown as the person wrote it)', () => {
    expect(validEmail('ana@bücher.example')).to.equal('ana@bücher.example');
    expect(validEmail('ana@xn--bcher-kva.example')).to.equal('ana@xn--bcher-kva.example');
  });
});
