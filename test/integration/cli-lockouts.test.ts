import { expect } from 'chai';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { instanceWithCliEnv } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';
import { emptyDatabaseUri, randomSecret } from '../helpers/stores.ts';

/** `gatehouse lockouts clear --ip ADDRESS`: the admin API's POST /lockouts/clear {ip}, from the command line. */
describe('CLI: lockouts clear --ip (real stores, a running instance)', function () {
  this.timeout(90_000);
  let gatehouse: Awaited<ReturnType<typeof instanceWithCliEnv>>['gatehouse'];
  let env: Record<string, string>;
  let token: string;

  before(async () => {
    ({ gatehouse, env } = await instanceWithCliEnv(emptyDatabaseUri('cli_lockouts'), randomSecret()));
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse?.close();
  });

  const ipLocks = async () => ((await callAdmin(gatehouse.url, token, 'GET', '/lockouts')).body as Array<{ scope: string; ip: string }>).filter((lockout) => lockout.scope === 'ip').map((lockout) => lockout.ip);

  it('refuses what is not an address with an error naming --ip (nothing cleared, no stack)', async () => {
    for (const ip of ['not-an-ip', '203.0.113.300', '2001:db8::/48']) {
      const result = await runCli(['lockouts', 'clear', '--ip', ip], env);
      expect(result.code, ip).to.not.equal(0);
      expect(result.stderr, ip).to.include('--ip').and.include('IPv4 or IPv6 address');
      expect(result.stderr, ip).to.not.match(/\n\s+at /);
    }
    const missing = await runCli(['lockouts', 'clear'], env);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.include('--ip is required');
  });

  it('lifts the lockout of an IPv4 address and of an IPv6 /64, audited as lockout.cleared', async () => {
    expect((await callAdmin(gatehouse.url, token, 'PATCH', '/settings/brute-force', { lockout_ip_threshold: 2 })).status).to.equal(200);
    const lockIp = async (ip: string) => {
      for (let i = 0; i < 3; i += 1) await gatehouse.services.accounts.authenticate(`nobody-${i}`, 'wrong password!', ip);
    };
    await lockIp('203.0.113.9');
    await lockIp('2001:db8:aa:bb:1::7');
    expect((await ipLocks()).sort()).to.deep.equal(['2001:db8:aa:bb::/64', '203.0.113.9']);

    const cleared = await runCli(['lockouts', 'clear', '--ip', '203.0.113.9', '--json'], env);
    expect(cleared.code, cleared.stderr).to.equal(0);
    expect(JSON.parse(cleared.stdout)).to.deep.equal({ ip: '203.0.113.9', lifted: 1 });
    const block = await runCli(['lockouts', 'clear', '--ip', '2001:db8:aa:bb:ffff::1'], env);
    expect(block.code, block.stderr).to.equal(0);
    expect(block.stdout).to.include('lifted the lockout of 2001:db8:aa:bb:ffff::1');
    expect(await ipLocks()).to.deep.equal([]);
    const again = await runCli(['lockouts', 'clear', '--ip', '203.0.113.9'], env);
    expect(again.stdout).to.include('was not locked out');

    type Event = { actor: { type: string }; details: { ip?: string; lifted: number } };
    const { events } = (await callAdmin(gatehouse.url, token, 'GET', '/audit-events?type=lockout.cleared')).body as { events: Event[] };
    expect(events.map((event) => [event.actor.type, event.details.ip, event.details.lifted])).to.deep.include.members([
      ['cli', '203.0.113.9', 1],
      ['cli', '2001:db8:aa:bb::/64', 1],
    ]);
  });
});
