import type { KeyControl } from '../keys/key-control.ts';
import { keyStatus } from '../keys/key-store.ts';
import type { AuditTrail } from '../observability/audit-trail.ts';
import type { OperationContext } from './context.ts';
import { OperationError } from './errors.ts';

const NO_KEYS = () => new OperationError(404, 'no_keys_yet');

/** Signing keys: list with their status on Gatehouse's clock (`now`), rotate (audited as keys.rotated from the admin API and the CLI alike). */
export function keyOperations(keys: KeyControl, audit: AuditTrail, now: () => Date) {
  return {
    async list() {
      const set = await keys.keySet();
      if (set === undefined) throw NO_KEYS();
      const at = now();
      return {
        version: set.version,
        keys: set.signingKeys.map((key) => ({
          kid: key.kid,
          alg: key.alg,
          status: keyStatus(key, at),
          created_at: key.createdAt.toISOString(),
          activate_at: key.activateAt.toISOString(),
          retire_at: key.retireAt?.toISOString() ?? null,
          remove_at: key.removeAt?.toISOString() ?? null,
        })),
      };
    },

    /** Adds a key generation that signs after GATEHOUSE_KEY_PUBLISH_DELAY. */
    async rotate(ctx: OperationContext) {
      if ((await keys.keySet()) === undefined) throw NO_KEYS();
      const result = await keys.rotate();
      const kids = result.signingKeys.map((key) => key.kid);
      await audit.write({ ...ctx, type: 'keys.rotated', target: { type: 'keyset', id: String(result.keySet.version) }, details: { rotated: result.rotated, kids } });
      return {
        rotated: result.rotated,
        version: result.keySet.version,
        keys: result.signingKeys.map((key) => ({ kid: key.kid, alg: key.alg, activate_at: key.activateAt.toISOString() })),
        cookie_key_activate_at: result.cookieKeys[0]?.activateAt.toISOString() ?? null,
        announced: result.announced,
      };
    },
  };
}
