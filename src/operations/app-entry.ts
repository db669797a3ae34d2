import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';
import { originalGrantId } from '../oidc/grants/token-exchange.ts';

/**
 * The application whose entry on the account page lists a grant (own-account.ts apps()), so that
 * "Remove access" on an entry removes what it lists and nothing else (consents.ts revokeAccess):
 * a grant exchanged (RFC 8693) from an app's grant in force is listed under that app; any other
 * grant — the client's own, or one exchanged from a grant that is gone — under its own client.
 * `clientOfGrant`: the client of each of the user's grants in force, by grant id.
 */
export function listingClient(grant: { readonly id: string; readonly clientId: string }, clientOfGrant: ReadonlyMap<string, string>): string {
  const from = clientOfGrant.get(originalGrantId(grant.id) ?? '');
  return from !== undefined && from !== ACCOUNT_CLIENT_ID ? from : grant.clientId;
}
