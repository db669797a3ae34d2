import { createHash } from 'node:crypto';
import type { RegisteredClientWrite } from '../clients/provider-adapter.ts';
import type { AuditActor, AuditInput } from '../observability/audit-input.ts';
import { oidcLibrary } from '../storage/oidc/oidc-library.ts';

/**
 * An initial access token as the audit trail names it. The library's opaque tokens are their own
 * id (`jti` is the value a bearer presents), so the trail holds a digest of it instead: the same
 * one on the token's creation (registration.initial_access_token_created, target) and on each
 * client registered with it (client.created, actor).
 */
export function initialAccessTokenId(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 22);
}

/** Set by the server, not asked for by the registering party. */
const SERVER_SET = new Set(['client_id', 'client_secret', 'client_id_issued_at', 'client_secret_expires_at']);

/**
 * client.created for a registration (RFC 7591 POST: the actor is the initial access token it
 * came with, or anonymous without one; the fields it asked for), client.updated for a client
 * changing itself (RFC 7592 PUT: the client its own actor; the fields that changed). Who
 * registered comes from the request the library is serving; the address the audit trail takes
 * from Gatehouse's own request context.
 */
export function registeredClientEvent(write: RegisteredClientWrite): AuditInput {
  const target = { type: 'client', id: write.clientId };
  if (!write.created) {
    return { type: 'client.updated', actor: { type: 'client', id: write.clientId }, client: write.clientId, target, details: { fields: write.fields } };
  }
  // Only a registration the library serves creates a client here: it is loaded by then (never by a CLI command).
  const oidc = oidcLibrary().default.ctx?.oidc;
  const token = oidc?.entities.InitialAccessToken?.jti;
  const actor: AuditActor = token === undefined ? { type: 'anonymous', id: null } : { type: 'initial_access_token', id: initialAccessTokenId(token) };
  const asked = oidc?.body === undefined ? undefined : new Set(Object.keys(oidc.body));
  const fields = write.fields.filter((name) => !SERVER_SET.has(name) && (asked === undefined || asked.has(name)));
  return { type: 'client.created', actor, client: write.clientId, target, details: { fields } };
}
