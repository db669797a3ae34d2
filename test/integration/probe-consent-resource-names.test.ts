import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe23): a consent record's API part is keyed by the API's identifier. `gatehouse import`
 * takes a file's consent `resources` as any texts (src/transfer/export-file.ts), so a record may
 * name an API `toString` or `constructor`: reading that user's consents (every sign-in to the
 * client, the account page, the next export) found the inherited member and threw. Read back as
 * stored instead.
 */
describe('probe: consent records whose API key is an Object.prototype member', function () {
  this.timeout(60_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;

  before(async () => {
    deploy = await deployment('probe_consent_keys');
    gatehouse = await deploy.start();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('a record with resources toString, constructor and __proto__ is read back, one own member each', async () => {
    const resources = Object.fromEntries([['toString', ['read']], ['constructor', ['write']], ['__proto__', ['admin']], ['https://api.example.com', ['read']]]);
    const user = await gatehouse.services.accounts.createUser({ username: 'consenter', password: 'correct horse battery staple' });
    await gatehouse.services.consents.add(user.id, 'client-1', { scopes: ['openid'], claims: [], resources });
    const found = await gatehouse.services.consents.find(user.id, 'client-1');
    expect(found, 'the record').not.to.equal(undefined);
    expect(Object.keys(found!.resources).sort()).to.deep.equal(['__proto__', 'constructor', 'https://api.example.com', 'toString']);
    expect(Object.entries(found!.resources).map(([api, scopes]) => [api, scopes])).to.deep.include.members([['toString', ['read']], ['constructor', ['write']], ['__proto__', ['admin']]]);
    expect(({} as Record<string, unknown>).admin).to.equal(undefined);
  });
});
