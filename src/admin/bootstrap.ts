import { DuplicateUserError } from '../accounts/errors.ts';
import { ApiConflictError } from '../apis/registry.ts';
import type { Logger } from '../observability/logger.ts';
import type { GatehouseServices } from '../services.ts';
import { ADMIN_ROLE, ADMIN_SCOPE } from './auth.ts';

export interface BootstrapAdmin {
  readonly username: string;
  readonly password: string;
}

/**
 * Startup duties of the admin API: its audience registered as an API, the `admin` role, and —
 * when GATEHOUSE_ADMIN_USERNAME / _PASSWORD are set and no administrator exists — the first
 * administrator. Racing instances are settled by unique keys (API identifier, role name,
 * username): exactly one insert wins, the others see a duplicate and move on.
 */
export async function bootstrapAdmin(services: GatehouseServices, admin: BootstrapAdmin | undefined, logger: Logger): Promise<void> {
  if ((await services.apis.find(services.adminAudience)) === undefined) {
    await services.apis
      .create({ identifier: services.adminAudience, name: 'Gatehouse admin API', scopes: [ADMIN_SCOPE], format: 'jwt', alg: 'RS256', accessTokenTtl: 600, includeRoles: true })
      .catch((error: unknown) => {
        if (!(error instanceof ApiConflictError)) throw error;
      });
  }
  await services.roles.ensure([ADMIN_ROLE]);
  const existing = await services.users.search({ role: ADMIN_ROLE, limit: 1, offset: 0 });
  if (existing.total > 0) return;
  if (admin === undefined) {
    logger.info(
      'no administrator yet: set GATEHOUSE_ADMIN_USERNAME and GATEHOUSE_ADMIN_PASSWORD, or run `gatehouse users create --username NAME --role admin --password-stdin` (in a source checkout: `npm run cli -- users create …`)',
    );
    return;
  }
  try {
    const user = await services.accounts.createUser({ username: admin.username, password: admin.password, roles: [ADMIN_ROLE] });
    await services.audit.record({ type: 'user.created', actor: { type: 'system', id: 'bootstrap' }, target: { type: 'user', id: user.id }, details: { username: user.username, roles: [ADMIN_ROLE] } });
    logger.info({ username: user.username }, 'bootstrap administrator created');
  } catch (error) {
    if (!(error instanceof DuplicateUserError)) throw error;
  }
}
