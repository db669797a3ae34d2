import { expect } from 'chai';
import { shortened } from '../../src/accounts/shortened.ts';

describe('shortened: text cut by whole characters (src/accounts/shortened.ts)', () => {
  it('leaves text within the limit as it is', () => {
    expect(shortened('Ada Lovelace', 12)).to.equal('Ada Lovelace');
    expect(shortened('', 0)).to.equal('');
  });

  it('never keeps half of a surrogate pair: an emoji across the limit goes whole', () => {
    expect(shortened('ab😀', 3)).to.equal('ab');
    expect(shortened('ab😀', 4)).to.equal('ab😀');
    expect(/\p{Cs}/u.test(shortened(`${'x'.repeat(255)}😀`, 256))).to.equal(false);
  });

  it('keeps a character of several code points whole: a letter with its combining mark, a family emoji, a flag', () => {
    expect(shortened('cafe\u0301', 4)).to.equal('caf');
    expect(shortened('a👩‍👩‍👧', 5)).to.equal('a');
    expect(shortened('a🇯🇵b', 3)).to.equal('a');
    expect(shortened('a🇯🇵b', 5)).to.equal('a🇯🇵');
  });
});
