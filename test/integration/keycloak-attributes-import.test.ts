import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/** Keycloak user attributes: standard-claim names become those claims, the others custom attributes (lists kept), unfit ones reported. */
describe('Keycloak import: user attributes become custom attributes', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;

  before(async () => {
    deploy = await deployment('keycloak_attributes_import');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
  });

  it('keeps single values as texts and several as lists, the standard ones as claims; reports names and sizes it cannot keep', async () => {
    const realm = {
      realm: 'acme',
      enabled: true,
      users: [
        {
          id: 'kc-ada',
          username: 'ada',
          enabled: true,
          attributes: {
            department: ['eng'],
            langs: ['en', 'fr'],
            locale: ['en-GB'],
            'cost.center': ['4711'],
            sub: ['forged'],
            empty: [''],
            huge: ['x'.repeat(2000)],
          },
        },
      ],
    };
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', realm);
    expect(status, JSON.stringify(body)).to.equal(200);
    const user = await gatehouse.services.accounts.findByLogin('ada');
    expect(user?.customAttributes).to.deep.equal({ department: 'eng', langs: ['en', 'fr'] });
    expect(user?.attributes).to.deep.equal({ locale: 'en-GB' });
    const reasons = (body.unmapped as Array<{ name: string; reason: string }>).map((item) => item.reason).join('\n');
    expect(reasons).to.include('cost.center (attribute_name)');
    expect(reasons).to.include('sub (reserved_claim_name)');
    expect(reasons).to.include('huge (too_long)');
    expect(reasons).not.to.include('empty');
  });
});
