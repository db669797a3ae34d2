import { t } from './ui.ts';

/** A Keycloak import's mark as the admin API shows it (`imported_from`). */
export interface ImportMark {
  readonly kind: string;
  readonly realm: string;
}

/** The Keycloak realm an import created a client, claim scope or upstream provider from (only its re-imports replace it): a fact of its own, none for one made here. */
export function importMarkFact(mark: ImportMark | null): Array<readonly [string, string]> {
  return mark === null ? [] : [[t('importMark.label'), t('importMark.keycloak', { realm: mark.realm })]];
}
