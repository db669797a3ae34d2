import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { UserAdmin } from '../../src/accounts/user-admin.ts';
import { parsedDocument } from '../../src/keycloak/export-stream.ts';
import { importKeycloakRealm } from '../../src/operations/keycloak-import.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

const bare = (id: string, username: string, enabled = true) => ({ id, username, email: `${username}@example.com`, emailVerified: true, enabled });
const realm = (users: unknown[]) => parsedDocument({ realm: 'race', enabled: true, users });
const actor = { actor: { type: 'system', id: 'test' } } as const;

/**
 * A re-import reads each user, decides (who disabled it, which password is newer) and writes it. An
 * operator's disable landing between that read and that write was overwritten by the import's user,
 * enabled. The interleaving is made, not waited for: the services the import is given read the user
 * and then, before handing it back, let the operator disable it — the import then writes from a read
 * that is no longer true, and must not undo the disable.
 */
describe('Keycloak re-import vs an operator disabling the user meanwhile', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;

  before(async () => {
    deploy = await deployment('kc_disable_race');
    gatehouse = await deploy.start();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  /** The services, whose read of `id` is followed by `meanwhile` before the import gets it. */
  const interleaved = (id: string, meanwhile: () => Promise<void>) => {
    const users: UserAdmin = gatehouse.services.users;
    let done = false;
    const storedById: UserAdmin['storedById'] = async (wanted) => {
      const read = await users.storedById(wanted);
      if (wanted === id && !done) {
        done = true;
        await meanwhile();
      }
      return read;
    };
    return { ...gatehouse.services, users: { ...users, storedById } };
  };

  it("an operator's disable between the import's read of the user and its write stays, reported as disabledKept", async () => {
    const [ann, bob] = [randomUUID(), randomUUID()];
    const users = [bare(ann, 'ann'), bare(bob, 'bob')];
    await importKeycloakRealm(gatehouse.services, actor, { realm: realm(users) }, { dryRun: false });
    let disabledMeanwhile = false;
    const services = interleaved(ann, async () => {
      await gatehouse.services.accounts.disable(ann);
      disabledMeanwhile = true;
    });
    const report = await importKeycloakRealm(services, actor, { realm: realm(users) }, { dryRun: false });
    expect(disabledMeanwhile).to.equal(true);
    const stored = (await gatehouse.services.users.storedById(ann))!;
    expect([stored.disabled, stored.disabledBy]).to.deep.equal([true, 'operator']);
    expect(report.disabledKept).to.deep.equal(['ann']);
    expect(report.users.updated).to.have.members(['ann', 'bob']);
    expect((await gatehouse.services.users.storedById(bob))!.disabled).to.equal(false);
  });

  it('a user changed meanwhile by something else is written from a fresh read (the write is the import, not a conflict)', async () => {
    const cid = randomUUID();
    const users = [bare(cid, 'cid')];
    await importKeycloakRealm(gatehouse.services, actor, { realm: realm(users) }, { dryRun: false });
    const services = interleaved(cid, async () => {
      await gatehouse.services.accounts.disable(cid);
      await gatehouse.services.accounts.enable(cid);
    });
    const report = await importKeycloakRealm(services, actor, { realm: realm([{ ...bare(cid, 'cid'), firstName: 'Cid' }]) }, { dryRun: false });
    expect(report.users.updated).to.deep.equal(['cid']);
    expect(report.conflicts).to.deep.equal([]);
    const stored = (await gatehouse.services.users.storedById(cid))!;
    expect([stored.disabled, stored.givenName]).to.deep.equal([false, 'Cid']);
  });
});
