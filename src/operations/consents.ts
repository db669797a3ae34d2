import type { ConsentRecord } from '../consents/records.ts';
import type { GatehouseServices } from '../services.ts';
import { deepestFirst } from '../oidc/grants/exchanged-grant-ids.ts';
import { listings } from './app-entry.ts';
import type { OperationContext } from './context.ts';
import { revokedGrantDetails } from '../oidc/grants/exchange-audit.ts';
import { withOrigins } from './sessions.ts';
import { notFound } from './errors.ts';

export { showConsent } from './consent-view.ts';

/**
 * A user's consents kept across sign-in sessions (src/consents/records.ts): listed, and revoked —
 * by an operator or by the user on the account page. Revoking one also revokes the user's grants
 * to that application and their tokens (as Keycloak's "Revoke" of a user's consent ends the
 * application's offline tokens): the application asks for consent again at its next sign-in.
 */
export function consentOperations(services: GatehouseServices) {
  const { accounts, audit, consents, revocation } = services;

  async function existing(userId: string): Promise<void> {
    if ((await accounts.findById(userId)) === undefined) throw notFound('user_not_found', userId);
  }

  const operations = {
    async list(userId: string): Promise<ConsentRecord[]> {
      await existing(userId);
      return consents.ofUser(userId);
    },

    /**
     * Removes the record first (a sign-in meanwhile cannot make a grant from it again), then
     * revokes what the account page lists under the client (app-entry.ts): the user's grants to it,
     * those exchanged from them (token exchange) and its exchanged grants whose original is gone —
     * not what it obtained through another app's grant in force (listed under that app), nor what
     * another client obtained through it. Exchanges first, so each is audited as this revocation's
     * `grant.revoked` rather than as a consequence of its original's; the record's removal as
     * `consent.revoked`. `found`: the user had any of them.
     */
    async revokeAccess(ctx: OperationContext, userId: string, clientId: string): Promise<{ found: boolean; consent: boolean; grants: number }> {
      const consent = await consents.remove(userId, clientId);
      const listed = new Map(
        listings(withOrigins(await revocation.listGrants(userId)))
          .filter(({ entry }) => entry === clientId)
          .map(({ grant }) => [grant.id, grant]),
      );
      // Each exchange before the grant it was exchanged from: all of them are revoked as listed here.
      const grants = deepestFirst([...listed.keys()]).map((id) => listed.get(id)!);
      let revoked = 0;
      for (const grant of grants) {
        if (!(await revocation.revokeGrant(grant.id, userId))) continue;
        revoked += 1;
        await audit.write({ ...ctx, type: 'grant.revoked', target: { type: 'grant', id: grant.id }, details: revokedGrantDetails(userId, grant.exchangedFrom === null ? undefined : grant.exchangedFrom.grantId) });
      }
      if (consent) await audit.write({ ...ctx, type: 'consent.revoked', target: { type: 'client', id: clientId }, details: { user: userId, grants: revoked } });
      return { found: consent || grants.length > 0, consent, grants: revoked };
    },

    /** An operator's revocation (admin API, CLI, console): not found when the user had neither a record nor a grant for the client. */
    async revoke(ctx: OperationContext, userId: string, clientId: string): Promise<{ consent: boolean; grants: number }> {
      await existing(userId);
      const { found, consent, grants } = await operations.revokeAccess(ctx, userId, clientId);
      if (!found) throw notFound('consent_not_found', clientId);
      return { consent, grants };
    },
  };
  return operations;
}

export type ConsentOperations = ReturnType<typeof consentOperations>;
