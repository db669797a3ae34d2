import type { ClientRepository } from '../clients/repository.ts';
import { webLink } from '../clients/web-link.ts';
import { asStoreError, StoreUnavailableError } from '../errors/store-unavailable.ts';
import type { Logger } from '../observability/logger.ts';

/** The application that sent the user to the account page, and where "Back to <app>" leads. */
export interface AccountReferrer {
  readonly clientId: string;
  /** The client's display name (its id when it has none): text, never markup. */
  readonly name: string;
  readonly uri: string;
}

/** What the account page's URL carries: keycloak-js's `createAccountUrl()` sends both. */
export interface ReferrerQuery {
  readonly referrer?: unknown;
  readonly referrer_uri?: unknown;
}


/**
 * The "Back to <app>" link of the account page, by Keycloak's rules (its AccountConsole's
 * referrer): `referrer` names a known client, and `referrer_uri` is one of that client's
 * registered redirect URIs — exactly, where Keycloak would also match its wildcards — or, when
 * absent, the client's home page (`client_uri`, Keycloak's base URL). Anything else shows no link,
 * and so does a URI that is not http(s): the link never leads where the client's registration
 * does not, and never runs anything (`javascript:`). A parameter given twice counts as not given well.
 */
export async function accountReferrer(clients: Pick<ClientRepository, 'get'>, query: ReferrerQuery, logger?: Pick<Logger, 'warn'>): Promise<AccountReferrer | undefined> {
  const { referrer, referrer_uri: referrerUri } = query;
  if (typeof referrer !== 'string' || referrer === '') return undefined;
  if (referrerUri !== undefined && typeof referrerUri !== 'string') return undefined;
  const client = await referringClient(clients, referrer, logger);
  if (client === undefined) return undefined;
  const { redirect_uris: registered, client_uri: home } = client.metadata;
  const uri = referrerUri === undefined ? home : Array.isArray(registered) && registered.includes(referrerUri) ? referrerUri : undefined;
  const link = webLink(uri);
  if (link === undefined) return undefined;
  return { clientId: client.clientId, name: client.displayName.trim() === '' ? client.clientId : client.displayName, uri: link };
}

/**
 * The link is a convenience: when the clients' store cannot be read, the page (which needs no
 * store to load) goes without it rather than failing — logged, since the user sees nothing amiss.
 */
async function referringClient(clients: Pick<ClientRepository, 'get'>, clientId: string, logger: Pick<Logger, 'warn'> | undefined) {
  try {
    return await clients.get(clientId);
  } catch (error) {
    const outage = asStoreError(error);
    if (!(outage instanceof StoreUnavailableError)) throw error;
    logger?.warn({ err: outage, store: outage.store, clientId }, 'account page: the referring client could not be read; the page is served without "Back to <app>"');
    return undefined;
  }
}
