import { expect } from 'chai';
import { originForm } from '../../src/http/origin-form.ts';

describe('originForm: an absolute-form request target as its origin form', () => {
  it('drops the scheme and authority, keeps path and query as they are', () => {
    expect(originForm('http://evil.example/.well-known/openid-configuration')).to.equal('/.well-known/openid-configuration');
    expect(originForm('HTTPS://user@evil.example:8443/token?x=1&y=%00')).to.equal('/token?x=1&y=%00');
    expect(originForm('http://evil.example/a/../token')).to.equal('/a/../token');
    expect(originForm('http://evil.example')).to.equal('/');
    expect(originForm('http://evil.example?x=1')).to.equal('/?x=1');
  });

  it('leaves origin-form targets and * alone', () => {
    for (const target of ['/token', '/token?redirect_uri=http://x/y', '//evil.example/token', '*', '']) expect(originForm(target)).to.equal(target);
  });
});
