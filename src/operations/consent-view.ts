import type { ConsentRecord } from '../consents/records.ts';

/** A consent record as the admin API and the CLI show it (apart from src/operations/consents.ts: the CLI shows one without loading oidc-provider). */
export function showConsent(record: ConsentRecord) {
  return {
    client_id: record.clientId,
    scopes: [...record.scopes],
    claims: [...record.claims],
    resources: Object.fromEntries(Object.entries(record.resources).map(([indicator, scopes]) => [indicator, [...scopes]])),
    created_at: record.createdAt.toISOString(),
    updated_at: record.updatedAt.toISOString(),
  };
}
