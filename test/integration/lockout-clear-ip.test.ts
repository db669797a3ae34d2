import { expect } from 'chai';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { instanceForSuite } from '../helpers/e2e.ts';

/**
 * POST /lockouts/clear {ip}: an address, as sign-ins are charged to it (src/accounts/ip-key.ts:
 * IPv4 per address, IPv6 per /64) — or the /64 block as GET /lockouts shows it. Anything else is a
 * 400 naming `ip`, not a clear of nothing answered 200.
 */
describe('clearing a lockout by address (admin API, real stores)', function () {
  this.timeout(60_000);
  const suite = instanceForSuite('lockout_clear_ip');
  let token: string;

  before(async () => {
    token = await (await adminClient(suite.gatehouse)).token();
  });

  const call = (method: string, path: string, body?: unknown) => callAdmin(suite.gatehouse.url, token, method, path, body);

  it('refuses what is not an address with a 400 naming ip', async () => {
    for (const ip of ['not-an-ip', '203.0.113', '203.0.113.300', '2001:db8::g', '203.0.113.7/24', '2001:db8::/48', 'localhost', ' 203.0.113.7']) {
      const response = await call('POST', '/lockouts/clear', { ip });
      expect(response.status, `${ip}: ${JSON.stringify(response.body)}`).to.equal(400);
      expect(response.body.details, ip).to.deep.equal([{ path: 'ip', message: 'must be an IPv4 or IPv6 address, or an IPv6 /64 block as the lockout list shows it', code: 'ip_address' }]);
    }
  });

  it('clears by an IPv4 or IPv6 address, and by the /64 block the list shows', async () => {
    const { gatehouse } = suite;
    expect((await call('PATCH', '/settings/brute-force', { lockout_ip_threshold: 2 })).status).to.equal(200);
    const lockIp = async (ip: string) => {
      for (let i = 0; i < 3; i += 1) await gatehouse.services.accounts.authenticate(`nobody-${i}`, 'wrong password!', ip);
    };
    const ipLocks = async () => ((await call('GET', '/lockouts')).body as Array<{ scope: string; ip: string }>).filter((lockout) => lockout.scope === 'ip').map((lockout) => lockout.ip);

    await lockIp('203.0.113.9');
    await lockIp('2001:db8:aa:bb:1::7');
    expect((await ipLocks()).sort()).to.deep.equal(['2001:db8:aa:bb::/64', '203.0.113.9']);

    expect((await call('POST', '/lockouts/clear', { ip: '203.0.113.9' })).body).to.deep.equal({ lifted: 1 });
    expect((await call('POST', '/lockouts/clear', { ip: '2001:DB8:AA:BB::/64' })).body).to.deep.equal({ lifted: 1 });
    expect(await ipLocks()).to.deep.equal([]);

    await lockIp('2001:db8:aa:bb:1::7');
    // Another address of the same /64 names the same block.
    expect((await call('POST', '/lockouts/clear', { ip: '2001:db8:aa:bb:ffff::1' })).body).to.deep.equal({ lifted: 1 });
    expect(await ipLocks()).to.deep.equal([]);
  });
});
