import { expect } from 'chai';
import { settingsChecks } from '../../src/operations/settings-checks.ts';
import type { LabelDirectory } from '../../src/roles/directory.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { exportAll, importAll } from '../../src/transfer/export-file.ts';
import type { SettingsChecksOver } from '../../src/transfer/settings-section.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/**
 * `gatehouse import` with runtime settings naming a role the file does not bring (one this
 * deployment has): the role deleted between the import's check and its settings write must not
 * come back in mfa_required_roles (probe25's finding for the admin API, the same window in the
 * import: src/transfer/settings-section.ts). The moment is chosen exactly: the import's check
 * reads the roles, then the deletion runs to its end through the admin API; real stores.
 */
describe('gatehouse import: a settings write racing a role deletion does not bring the role back (real stores)', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;

  before(async () => {
    deploy = await deployment('import_settings_role_race');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

  it('refuses the settings naming the role deleted meanwhile, naming the setting, and leaves it out', async () => {
    expect((await call('POST', '/roles', { name: 'finance' })).status).to.equal(201);
    let text = '';
    await exportAll(gatehouse.services, gatehouse.url, { write: (piece) => (text += piece), encrypted: false });
    const file = JSON.parse(text) as { roles: Array<{ name: string }>; settings?: Record<string, Record<string, unknown>> };
    // The file names the role in its settings but does not bring it: it is this deployment's.
    file.roles = file.roles.filter((role) => role.name !== 'finance');
    file.settings = { ...file.settings, mfa: { ...file.settings?.mfa, mfa_required_roles: ['finance'] } };

    let deleted = 0;
    let calls = 0;
    const checks: SettingsChecksOver = (labels) => {
      calls += 1;
      if (calls > 1) return settingsChecks(labels);
      // The import's check before its writes: its read of the roles returns, then the deletion runs.
      const roles: Pick<LabelDirectory, 'kind' | 'list'> = {
        kind: labels.roles.kind,
        async list() {
          const listed = await labels.roles.list();
          if (deleted === 0) {
            const response = await call('DELETE', '/roles/finance');
            expect(response.status, JSON.stringify(response.body)).to.equal(204);
            deleted += 1;
          }
          return listed;
        },
      };
      return settingsChecks({ roles, groups: labels.groups });
    };
    const outcome = await importAll(gatehouse.services, file, gatehouse.url, checks).then(
      () => 'imported',
      (error: { status?: number; message?: string }) => `${error.status}: ${error.message}`,
    );
    expect(deleted).to.equal(1);
    expect((await gatehouse.services.runtimeSettings.mfa.read()).settings.mfa_required_roles, `after the import (${outcome})`).not.to.include('finance');
    expect(outcome).to.match(/^400: settings\.mfa\.mfa_required_roles\.0: /);
  });
});
