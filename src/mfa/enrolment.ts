import type { Accounts } from '../accounts/accounts.ts';
import type { Factors } from './factors.ts';
import type { Passkeys } from './passkeys.ts';

/**
 * Keeps the user's `secondFactor` flag in step with their factors, after every enrolment,
 * reset and removal. Sign-in reads the flag from the (cached) account profile, so asking
 * "does this user have a second factor?" costs no store read per authorization.
 */
export function enrolmentKeeper(deps: { factors: Factors; passkeys: Passkeys; accounts: Pick<Accounts, 'setSecondFactor'> }): (userId: string) => Promise<boolean> {
  return async (userId) => {
    const enrolled = (await deps.factors.status(userId)).enrolled || (await deps.passkeys.list(userId)).length > 0;
    await deps.accounts.setSecondFactor(userId, enrolled);
    return enrolled;
  };
}
