import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { clientCredentials } from '../helpers/admin.ts';
import { testClock } from '../helpers/clock.ts';
import { API } from '../helpers/e2e.ts';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { twoInstances, type TwoInstances } from '../helpers/two-instances.ts';

/**
 * Probe (probe24): a client's service-account roles change on one instance — a role deleted (taken
 * off every client, round 23), or the list replaced — and the other instance, which has the client
 * in its caches, must stop putting the old roles into client_credentials tokens. On a frozen clock
 * no cache lifetime can explain the change: only the change notice.
 */
describe("probe: a service account's roles changed on another instance", function () {
  this.timeout(120_000);
  let instances: TwoInstances;

  before(async () => {
    instances = await twoInstances('probe_sa_two', { clock: testClock({ frozen: true }), settings: { GATEHOUSE_KEY_POLL_INTERVAL: '3600' } });
    await instances.a.services.apis.create({ identifier: API, scopes: ['read'], includeRoles: true });
  });
  after(async () => {
    await instances?.stop();
  });

  it("B's next token follows a role deleted on A, then a list replaced on A", async () => {
    expect((await instances.api('POST', '/roles', { name: 'billing' })).status).to.be.oneOf([200, 201]);
    const made = await instances.api('POST', '/clients', { name: 'Worker', apis: [API], default_api: API, service_account_roles: ['billing', 'reports'] });
    expect(made.status, JSON.stringify(made.body)).to.equal(201);
    const id = made.body.client_id as string;
    const secret = made.body.client_secret as string;
    const rolesAt = async (url: string) => {
      const issued = await clientCredentials(url, id, secret);
      expect(issued.status, JSON.stringify(issued.body)).to.equal(200);
      return decodeJwt(issued.body.access_token as string).roles as string[] | undefined;
    };
    expect(await rolesAt(instances.b.url)).to.deep.equal(['billing', 'reports']);
    expect((await instances.api('DELETE', '/roles/billing')).status).to.be.oneOf([200, 204]);
    await within(NOTICE_MS, async () => JSON.stringify(await rolesAt(instances.b.url)) === JSON.stringify(['reports']));
    expect((await instances.api('PATCH', `/clients/${encodeURIComponent(id)}`, { service_account_roles: ['ledger'] })).status).to.equal(200);
    await within(NOTICE_MS, async () => JSON.stringify(await rolesAt(instances.b.url)) === JSON.stringify(['ledger']));
  });
});
