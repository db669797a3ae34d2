import { expect } from 'chai';
import { settingsChecks } from '../../src/operations/settings-checks.ts';
import { settingsOperations } from '../../src/operations/settings.ts';
import type { LabelDirectory } from '../../src/roles/directory.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

const OPERATOR = { actor: { type: 'system' as const, id: 'probe25' } };

/**
 * Probe (probe25): deleting a role takes it off mfa_required_roles under the settings group's lock
 * (round 24's SettingsStore.update(fn)). A settings change naming the role is checked against the
 * roles that exist ("no role named …") — if that check runs before the deletion and its write lands
 * after it, the deleted name is back in the list: the hazard the deletion's edit exists to close (a
 * role created later under the name would silently require a second factor). The interleaving is
 * made exact here: the check's read of the roles returns, and only then the deletion runs to its end
 * through the admin API, before the change is written. Real stores and the real role deletion; only
 * the moment is chosen.
 */
describe('probe: a settings change racing a role deletion does not bring the role back (real stores)', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;

  before(async () => {
    deploy = await deployment('probe_settings_role_race');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

  /** The roles directory, whose first list() (the change's check) lets `deletion` run to its end right after it read. */
  const deletingAfterFirstRead = (roles: LabelDirectory, deletion: () => Promise<void>): Pick<LabelDirectory, 'kind' | 'list'> => {
    let reads = 0;
    return {
      kind: roles.kind,
      async list() {
        const listed = await roles.list();
        reads += 1;
        if (reads === 1) await deletion();
        return listed;
      },
    };
  };

  for (const [label, kind, setting] of [['role', 'roles', 'mfa_required_roles'], ['group', 'groups', 'mfa_required_groups']] as const) {
    it(`${setting}: the ${label} deleted between the check and the write is not in the list afterwards`, async () => {
      const { services } = gatehouse;
      const name = `finance-${label}`;
      expect((await call('POST', `/${kind}`, { name })).status).to.equal(201);
      expect((await call('POST', `/${kind}`, { name: `auditors-${label}` })).status).to.equal(201);
      let deleted = 0;
      const deletion = async () => {
        const response = await call('DELETE', `/${kind}/${name}`);
        expect(response.status, JSON.stringify(response.body)).to.equal(204);
        deleted += 1;
      };
      const directories = { roles: services.roles as Pick<LabelDirectory, 'kind' | 'list'>, groups: services.groups as Pick<LabelDirectory, 'kind' | 'list'> };
      directories[kind] = deletingAfterFirstRead(services[kind], deletion);
      const operations = settingsOperations(services.runtimeSettings, services.audit, false, settingsChecks(directories));

      const outcome = await operations.updateGroup(OPERATOR, 'mfa', { [setting]: [`auditors-${label}`, name] }).then(
        () => 'written',
        (error: { status?: number; message?: string }) => `${error.status}: ${error.message}`,
      );
      expect(deleted).to.equal(1);
      expect((await call('GET', `/${kind}`)).body.map((one: { name: string }) => one.name)).not.to.include(name);
      const listed = (await services.runtimeSettings.mfa.read()).settings[setting];
      expect(listed, `after the change (${outcome})`).not.to.include(name);
      // Refused as any change naming no such role is, since the role is gone when it is written.
      expect(outcome).to.match(new RegExp(`^400: ${setting}\\.1: `));
      expect((await call('GET', '/settings/mfa')).body.settings[setting].value).not.to.include(name);
    });
  }
});
