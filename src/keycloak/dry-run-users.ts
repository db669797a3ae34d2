import type { UserAdmin } from '../accounts/user-admin.ts';
import type { StoredUser } from '../accounts/user-model.ts';
import { ownString } from './own-string.ts';

/**
 * What a dry run keeps of the users it would have written, so that it reports what the import
 * would: a user whose username or email (normalized, as the unique indexes compare them) another
 * user of the file took before is a conflict, and so is one whose username or email a stored user
 * of another id holds — unless the file gave that user other ones before (the import would have
 * replaced it, freeing them); one whose id came in an earlier batch is updated. Memory: one entry
 * per user — its username key, email key and id (≈ 250 bytes: 100,000 users ≈ 25 MB) — never the
 * users; a real import keeps none (the store's indexes answer).
 */
export class DryRunUsers {
  /** `u:<usernameKey>` / `e:<emailKey>` → the id of the user of the file that holds it. */
  readonly #keys = new Map<string, string>();
  /** Ids of the users taken so far: what the store holds of them is replaced by what #keys says. */
  readonly #taken = new Set<string>();
  /** Ids of the earlier batches (the import looks a batch's users up before writing it). */
  readonly #ids = new Set<string>();

  /** Whether the user would be written (taking its names), or is a conflict; `store` answers who holds a name now. */
  async take(user: StoredUser, store: Pick<UserAdmin, 'holderOfUsername' | 'holderOfEmail'>): Promise<boolean> {
    const keys = [
      { key: `u:${user.usernameKey}`, holder: () => store.holderOfUsername(user.usernameKey) },
      { key: `e:${user.emailKey}`, holder: () => store.holderOfEmail(user.emailKey) },
    ];
    for (const { key, holder } of keys) {
      const taken = this.#keys.get(key);
      if (taken !== undefined) {
        if (taken !== user._id) return false;
        continue;
      }
      // A stored user the dry run has not replaced still holds its names, as the unique indexes would say.
      const stored = await holder();
      if (stored !== undefined && stored !== user._id && !this.#taken.has(stored)) return false;
    }
    // Copies (ownString): a slice of the file's block would keep the block alive.
    const id = ownString(user._id);
    for (const { key } of keys) this.#keys.set(ownString(key), id);
    this.#taken.add(id);
    return true;
  }

  /**
   * Who would hold a username key now, as the store would answer in the import (a derived username
   * avoids it): a user of the file taken so far; else `stored`, the store's holder (undefined: not
   * looked up yet) — or null, nobody, when the dry run took that user with other names.
   */
  holderOf(key: string, stored: string | null | undefined): string | null | undefined {
    const taken = this.#keys.get(`u:${key}`);
    if (taken !== undefined) return taken;
    return stored !== undefined && stored !== null && this.#taken.has(stored) ? null : stored;
  }

  written(id: string): boolean {
    return this.#ids.has(id);
  }

  batchDone(ids: Iterable<string>): void {
    for (const id of ids) this.#ids.add(ownString(id));
  }
}
