import { z } from 'zod';
import { topClaim } from '../claims/claim-path.ts';
import type { ClaimScopes } from '../claims/claim-scopes.ts';
import { claimScopeCreateSchema, toMapper, type ClaimMapper, type ClaimScope } from '../claims/spec.ts';
import { says } from '../errors/problems.ts';
import { date, importMark, type ConflictSink } from './sections.ts';

/**
 * The `claim_scopes` section of an export file: each claim scope as the admin API takes it
 * (`POST /claim-scopes`: name, descriptions, mappers with snake_case names), with its Keycloak
 * import mark and its dates. Checked by the admin API's own schema, so a scope the API would
 * refuse is refused here, naming the field (`claim_scopes.2.mappers.0.claim`).
 */
export function exportedClaimScope(scope: ClaimScope) {
  return {
    name: scope.name,
    description: { ...scope.description },
    mappers: scope.mappers.map(exportedMapper),
    ...(scope.importedFrom === undefined ? {} : { imported_from: { kind: scope.importedFrom.kind, realm: scope.importedFrom.realm } }),
    created_at: scope.createdAt.toISOString(),
    updated_at: scope.updatedAt.toISOString(),
  };
}

function exportedMapper(mapper: ClaimMapper) {
  const uses = { id_token: mapper.idToken, access_token: mapper.accessToken, introspection: mapper.introspection, userinfo: mapper.userinfo };
  if (mapper.type === 'hardcoded') return { type: mapper.type, claim: mapper.claim, value: mapper.value, ...uses };
  return { type: mapper.type, claim: mapper.claim, attribute: mapper.attribute, multivalued: mapper.multivalued, json_type: mapper.jsonType ?? 'string', ...uses };
}

const entry = claimScopeCreateSchema.extend({ imported_from: importMark.optional(), created_at: date, updated_at: date });

/** The section's schema: every scope as the admin API takes it; names unique; a claim (its top level) in one scope only. */
export const claimScopesSection = z.array(entry).superRefine((scopes, ctx) => {
  const names = new Set<string>();
  const holders = new Map<string, string>();
  scopes.forEach((scope, index) => {
    if (names.has(scope.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], ...says('claim_scope_exists', { scope: scope.name }) });
    names.add(scope.name);
    scope.mappers.forEach((mapper, at) => {
      const top = topClaim(mapper.claim);
      const holder = holders.get(top);
      if (holder !== undefined && holder !== scope.name) ctx.addIssue({ code: 'custom', path: [index, 'mappers', at, 'claim'], ...says('claim_taken', { scope: holder }) });
      else holders.set(top, scope.name);
    });
  });
});

export type ImportedClaimScope = z.output<typeof entry>;

/**
 * Writes the file's claim scopes: each created, or replaced whole (the file is a full backup,
 * trusted as one, as its clients are) — mappers, descriptions, import mark, dates. A claim is
 * given by one scope: a mapper whose claim a scope here that the file does not name gives is
 * left out, and reported as a conflict (the scope here keeps it).
 */
export async function restoreClaimScopes(claimScopes: Pick<ClaimScopes, 'list' | 'restoreAll'>, scopes: readonly ImportedClaimScope[], conflict: ConflictSink) {
  const counts = { created: 0, updated: 0 };
  if (scopes.length === 0) return counts;
  const named = new Set(scopes.map((scope) => scope.name));
  const heldHere = new Map<string, string>();
  for (const scope of await claimScopes.list()) {
    if (named.has(scope.name)) continue;
    for (const mapper of scope.mappers) heldHere.set(topClaim(mapper.claim), scope.name);
  }
  const restored: ClaimScope[] = scopes.map((scope) => {
    const mappers = scope.mappers.map(toMapper).filter((mapper) => {
      const holder = heldHere.get(topClaim(mapper.claim));
      if (holder === undefined) return true;
      conflict({ kind: 'claim scope', name: scope.name, reason: `claim ${mapper.claim} is given by claim scope ${holder} here: that mapper is left out (a claim comes from one scope)` });
      return false;
    });
    return {
      name: scope.name,
      description: scope.description,
      mappers,
      ...(scope.imported_from === undefined ? {} : { importedFrom: scope.imported_from }),
      createdAt: new Date(scope.created_at),
      updatedAt: new Date(scope.updated_at),
    };
  });
  for (const outcome of (await claimScopes.restoreAll(restored)).values()) counts[outcome] += 1;
  return counts;
}
