import { expect } from 'chai';
import { upstreamOperations } from '../../src/operations/upstream.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import type { UpstreamProvider } from '../../src/upstream/directory.ts';
import { upstreamLinking } from '../../src/upstream/linking.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe24): a name with a control or invisible format character is refused wherever someone
 * picks one (hidden_character; the account page's own names since probe24). An upstream's `name`
 * claim is picked by whoever holds the upstream account: a just-in-time account must not take such
 * a name (left out, as an email or picture the local rules refuse is), while the account is still made.
 */
describe("probe: an upstream's name with hidden characters, at just-in-time account creation", function () {
  this.timeout(60_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let provider: UpstreamProvider;

  before(async () => {
    deploy = await deployment('probe_upstream_name');
    gatehouse = await deploy.start();
    provider = await upstreamOperations(gatehouse.services).create({ actor: { type: 'system', id: 'probe' } }, { alias: 'idp', kind: 'oidc', display_name: 'IdP', issuer: 'https://idp.example', client_id: 'gatehouse', client_secret: 'secret', scopes: ['openid', 'profile'] });
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
  });

  async function created(subject: string, name: string) {
    const linking = upstreamLinking({ directory: gatehouse.services.upstream, accounts: gatehouse.services.accounts, users: gatehouse.services.users, audit: gatehouse.audit });
    const outcome = await linking.resolve(provider, { subject, claims: { sub: subject, name, preferred_username: subject }, amr: [], idToken: undefined }, undefined);
    expect(outcome.kind).to.equal('pending');
    const done = await linking.createFromPending(provider, (outcome as Extract<typeof outcome, { kind: 'pending' }>).pending, undefined);
    expect(done.kind).to.equal('signed_in');
    return (await gatehouse.services.accounts.findById((done as { userId: string }).userId))!;
  }

  it('the account is made without the name', async () => {
    for (const [subject, name] of [['rlo', 'Bob\u202Egnp.exe'], ['zwsp', 'Ali\u200Bce'], ['bell', 'Eve\u0007']] as const) {
      const user = await created(subject, name);
      expect(user.name, JSON.stringify(name)).to.equal(null);
    }
  });

  it('names in any script, emoji with joiners, keep (the control)', async () => {
    expect((await created('script', 'علي 👩‍💻 Ли 李')).name).to.equal('علي 👩‍💻 Ли 李');
  });
});
