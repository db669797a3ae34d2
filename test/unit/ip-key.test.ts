import { expect } from 'chai';
import { ipKey } from '../../src/accounts/ip-key.ts';

describe('per-IP limiter keys', () => {
  it('keeps IPv4 addresses whole, also when IPv4-mapped', () => {
    expect(ipKey('203.0.113.7')).to.equal('203.0.113.7');
    expect(ipKey('::ffff:203.0.113.7')).to.equal('203.0.113.7');
  });

  it('charges IPv6 addresses to their /64, however they are written', () => {
    const key = '2001:db8:0:1::/64';
    expect(ipKey('2001:db8:0:1::1')).to.equal('2001:db8:0:1::/64');
    expect(ipKey('2001:0DB8:0000:0001:ffff:ffff:ffff:ffff')).to.equal(key);
    expect(ipKey('2001:db8:0:1:a:b:c:d%eth0')).to.equal(key);
    expect(ipKey('2001:db8::1')).to.equal('2001:db8:0:0::/64');
    expect(ipKey('::1')).to.equal('0:0:0:0::/64');
    expect(ipKey('2001:db8:0:2::1')).not.to.equal(key);
  });
});
