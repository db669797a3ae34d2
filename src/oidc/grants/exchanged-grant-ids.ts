/** Grant ids of exchanged tokens (RFC 8693), apart from the grant itself (token-exchange.ts): what reads them — storage, the account page, CLI commands — does not load oidc-provider. */
import { randomBytes } from 'node:crypto';

/**
 * An exchanged token's grant id starts with the subject token's grant id and this marker, so
 * whoever checks the exchanged token (exchange-link.ts, at introspection) finds the original
 * grant: revoking that grant makes every token exchanged from it inactive.
 */
const LINK = '~x~';

/** The grant an exchanged token was derived from, if this grant id is an exchange's. */
export function originalGrantId(grantId: string | undefined): string | undefined {
  if (grantId === undefined) return undefined;
  const at = grantId.indexOf(LINK);
  return at === -1 ? undefined : grantId.slice(0, at);
}

/**
 * The id prefix of every grant exchanged from this one, directly or from an exchange of it: they
 * are removed with it (src/storage/oidc/dependent-grants.ts). `~` sorts after every base64url
 * character and the dot, so these ids lie between the prefix and the prefix ending in `\x7f`.
 */
export function exchangedGrantsPrefix(grantId: string): string {
  return `${grantId}${LINK}`;
}

/**
 * The grants an exchanged grant stands on, the original first, then each exchanged grant of the
 * chain (an exchange of an exchanged token); empty for any other grant. It is saved only while
 * they all stand (src/storage/oidc/dependent-grants.ts).
 */
export function exchangedFrom(grantId: string): string[] {
  const ids: string[] = [];
  for (let at = grantId.indexOf(LINK); at !== -1; at = grantId.indexOf(LINK, at + LINK.length)) ids.push(grantId.slice(0, at));
  return ids;
}

/**
 * The client the original grant was made to, as the exchange recorded it: the account page names
 * that app beside the exchanged access after the original grant itself is gone (revoked, expired,
 * its client deleted). Undefined for an exchange made before this was recorded.
 */
export function originalClientId(grantId: string | undefined): string | undefined {
  const origin = originalGrantId(grantId);
  if (origin === undefined) return undefined;
  const [link = ''] = grantId!.slice(origin.length + LINK.length).split(LINK);
  const dot = link.indexOf('.');
  return dot === -1 ? undefined : Buffer.from(link.slice(dot + 1), 'base64url').toString('utf8');
}

/**
 * `<original grant>~x~<random>.<original client, base64url>`: neither base64url part holds a dot
 * or the marker, and an exchange of an exchanged token keeps the original grant and client first.
 */
export function exchangeGrantId(subjectGrantId: string, subjectClientId: string): string {
  const client = originalGrantId(subjectGrantId) === undefined ? subjectClientId : originalClientId(subjectGrantId);
  const recorded = client === undefined ? '' : `.${Buffer.from(client, 'utf8').toString('base64url')}`;
  return `${subjectGrantId}${LINK}${randomBytes(12).toString('base64url')}${recorded}`;
}
