import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';
import { originalGrantId } from '../oidc/grants/exchanged-grant-ids.ts';

/**
 * How an application's entry on the account page lists one grant:
 * - `own`: the entry's client's own grant (also one exchanged from the account page's grant);
 * - `via`: exchanged (RFC 8693) by another client from this app's grant in force — the app's entry
 *   lists it beside the app, as access obtained through it;
 * - `exchanged`: the entry's client's exchanged grant whose original is gone (an earlier version
 *   left it, or a removal was cut short), shown with the app it came from.
 */
export type ListedAs = 'own' | 'via' | 'exchanged';

export interface Listing<G> {
  readonly grant: G;
  /** The client whose entry lists the grant. */
  readonly entry: string;
  readonly as: ListedAs;
}

/**
 * The one rule of which entry lists which of a user's grants (`grants`: all of their grants in
 * force), used by the account page's list (own-account.ts apps()) and by every removal of an
 * entry (consents.ts revokeAccess: the account page, the admin API, the CLI and the console), so
 * that "Remove access" removes what its entry lists and nothing else.
 */
export function listings<G extends { readonly id: string; readonly clientId: string }>(grants: readonly G[]): Array<Listing<G>> {
  const clientOfGrant = new Map(grants.map((grant) => [grant.id, grant.clientId]));
  return grants.map((grant) => {
    const origin = originalGrantId(grant.id);
    if (origin === undefined) return { grant, entry: grant.clientId, as: 'own' };
    const from = clientOfGrant.get(origin);
    if (from === undefined) return { grant, entry: grant.clientId, as: 'exchanged' };
    return from === ACCOUNT_CLIENT_ID ? { grant, entry: grant.clientId, as: 'own' } : { grant, entry: from, as: 'via' };
  });
}
