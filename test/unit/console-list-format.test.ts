import { expect } from 'chai';
import { listIn } from '../../src/console/web/list-format.ts';

/** The console's settings pages show lists (roles, domains, changed settings) in the page's language, not joined with ", ". */
describe('console lists in the page language', () => {
  it('joins items as each locale does, each name isolated', () => {
    expect(listIn('en', ['finance', 'admin', 'ops'])).to.equal('finance, admin, and ops');
    expect(listIn('ru', ['finance', 'admin'])).to.equal('finance и admin');
    expect(listIn('zh-CN', ['finance', 'admin', 'ops'])).to.equal('finance、admin和ops');
    expect(listIn('ko', ['finance', 'admin'])).to.equal('finance 및 admin');
    expect(listIn('en', ['sup\u202Eport', 'ops'])).to.equal('\u2068sup\u202Eport\u2069 and ops');
    expect(listIn('en', [])).to.equal('');
  });
});
