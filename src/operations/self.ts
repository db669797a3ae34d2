import type { User } from '../accounts/accounts.ts';
import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';
import type { OperationContext } from './context.ts';

/** Who acts on the account page: the signed-in user, through the account client, from an address, in a session. */
export interface Self {
  readonly user: User;
  /** The sign-in session of the account page's token (`sessionUid`); its session is "this device". */
  readonly sessionUid: string | undefined;
  readonly ip: string;
  readonly requestId?: string | undefined;
}

/** The operation context of what the user does to their own account: they act, through the account client. */
export const selfContext = (self: Self): OperationContext => ({ actor: { type: 'user', id: self.user.id, username: self.user.username }, client: ACCOUNT_CLIENT_ID, requestId: self.requestId });

/** The audit target of what the user does to their own account. */
export const selfTarget = (self: Self) => ({ type: 'user', id: self.user.id });
