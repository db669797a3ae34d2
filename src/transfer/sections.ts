import { z } from 'zod';

/** What the sections of an export file share. */

export const EXPORT_FORMAT = 'gatehouse-export';
/**
 * The version every export file says. The sections added since the first (second factors,
 * passkeys, consents, Keycloak realms, claim scopes, upstream providers and links, settings) are
 * optional in an import: a file written before one existed has none and still imports.
 */
export const EXPORT_VERSION = 1;

/** A date as an export file writes it (ISO 8601). */
export const date = z.iso.datetime({ offset: true });

/** The Keycloak realm an import created an object from (a re-import of that realm may replace it). */
export const importMark = z.strictObject({ kind: z.literal('keycloak'), realm: z.string().min(1) });

/** One entry of an import's report that was left as it is here, and why (the CLI prints them). */
export interface ImportConflict {
  readonly kind: 'claim scope' | 'upstream link';
  readonly name: string;
  readonly reason: string;
}

/** Where an import reports its conflicts. */
export type ConflictSink = (conflict: ImportConflict) => void;
