/** Grant ids of exchanged tokens (RFC 8693), apart from the grant itself (token-exchange.ts): what reads them — storage, the account page, CLI commands — does not load oidc-provider. */
import { createHash, randomBytes } from 'node:crypto';

/**
 * An exchanged token's grant id starts with the id of the first grant of its chain (the grant of
 * the token a user's app got, not itself exchanged) and this marker, so whoever checks the
 * exchanged token (exchange-link.ts, at introspection) finds that grant, and the grants exchanged
 * from it lie under one prefix (src/storage/oidc/dependent-grants.ts).
 */
const LINK = '~x~';
/** base64url characters of the random part, and of the digest naming the grant exchanged from (12 bytes each). */
const PART = 16;

/**
 * The first grant of an exchanged grant's chain (the grant of the token first exchanged), if this
 * grant id is an exchange's: revoking it ends every exchange of the chain.
 */
export function originalGrantId(grantId: string | undefined): string | undefined {
  if (grantId === undefined) return undefined;
  const at = grantId.indexOf(LINK);
  return at === -1 ? undefined : grantId.slice(0, at);
}

/**
 * The id prefix of every grant exchanged from this first grant of a chain, directly or from an
 * exchange of it. `~` sorts after every base64url character and the dot, so these ids lie between
 * the prefix and the prefix ending in `\x7f`.
 */
export function exchangedGrantsPrefix(grantId: string): string {
  return `${grantId}${LINK}`;
}

/** What names the grant exchanged from: its id, or (ids of this version) a digest of its id. */
type ParentLink = { readonly id: string } | { readonly digest: string };

const digestOf = (grantId: string) => createHash('sha256').update(grantId).digest('base64url').slice(0, PART);

/**
 * The grant an exchanged grant was exchanged from, as its id says. Ids of this version:
 * `<first>~x~<random><digest of the parent's id>.<parent's client>`. Earlier versions appended an
 * exchange of an exchange to its parent's id (`<first>~x~<random>.<client>~x~<random>…`, ~50
 * characters a level) or recorded no client (`<first>~x~<random>`).
 */
function parentLink(grantId: string): ParentLink | undefined {
  const first = originalGrantId(grantId);
  if (first === undefined) return undefined;
  const last = grantId.lastIndexOf(LINK);
  if (last > first.length) return { id: grantId.slice(0, last) };
  const [part = ''] = grantId.slice(first.length + LINK.length).split('.');
  return part.length === 2 * PART ? { digest: part.slice(PART) } : { id: first };
}

/**
 * The grant this one was exchanged from, among the grant ids given (the first of a chain needs
 * not be among them: the id names it); undefined for a grant that is no exchange, or whose parent
 * is not among them.
 */
export function parentOf(grantId: string, known: Iterable<string>): string | undefined {
  const link = parentLink(grantId);
  if (link === undefined || 'id' in link) return link?.id;
  const first = originalGrantId(grantId)!;
  if (digestOf(first) === link.digest) return first;
  for (const id of known) if (digestOf(id) === link.digest) return id;
  return undefined;
}

/** parentOf for many grants at once: each exchanged grant among them → its parent (undefined when unknown). */
export function parentsAmong(grantIds: readonly string[]): Map<string, string | undefined> {
  const byDigest = new Map<string, string>();
  const parents = new Map<string, string | undefined>();
  for (const id of grantIds) {
    const link = parentLink(id);
    if (link === undefined) continue;
    if ('id' in link) parents.set(id, link.id);
    else {
      const first = originalGrantId(id)!;
      if (byDigest.size === 0) for (const known of grantIds) byDigest.set(digestOf(known), known);
      parents.set(id, digestOf(first) === link.digest ? first : byDigest.get(link.digest));
    }
  }
  return parents;
}

/** The grant ids, every exchange before the grant it was exchanged from (a removal cut short leaves none without its parent). */
export function deepestFirst(grantIds: readonly string[]): string[] {
  const parents = parentsAmong(grantIds);
  const depths = new Map<string, number>();
  const depth = (id: string): number => {
    let steps = 0;
    // Bounded by the number of grants: a chain names each of them once at most.
    for (let at: string | undefined = id; at !== undefined && parents.has(at) && steps <= grantIds.length; at = parents.get(at)) steps += 1;
    return steps;
  };
  for (const id of grantIds) depths.set(id, depth(id));
  return [...grantIds].sort((a, b) => depths.get(b)! - depths.get(a)!);
}

/**
 * The client of the token this grant was exchanged from, as the exchange recorded it: the account
 * page names that app after the grant itself is gone (revoked, expired, its client deleted).
 * Undefined for an exchange made before this was recorded, and for an earlier version's exchange
 * of an exchange (which recorded the first app).
 */
export function originalClientId(grantId: string | undefined): string | undefined {
  const first = originalGrantId(grantId);
  if (first === undefined || grantId!.indexOf(LINK, first.length + LINK.length) !== -1) return undefined;
  const link = grantId!.slice(first.length + LINK.length);
  const dot = link.indexOf('.');
  return dot === -1 ? undefined : Buffer.from(link.slice(dot + 1), 'base64url').toString('utf8');
}

/** Where an exchanged grant came from (admin API, CLI, console, account page). */
export interface ExchangeOrigin {
  /** The grant of the token exchanged (maybe gone since); null when unknown: gone, and named in the id by a digest only. */
  readonly grantId: string | null;
  /** That grant's client (recorded in the id for when it is gone; null when not recorded). */
  readonly clientId: string | null;
  /** The first grant of the chain: revoking it revokes this one. */
  readonly rootGrantId: string;
}

/** The origin of each exchanged grant among a user's grants. */
export function exchangeOrigins(grants: ReadonlyArray<{ readonly id: string; readonly clientId: string }>): Map<string, ExchangeOrigin> {
  const clientOf = new Map(grants.map((grant) => [grant.id, grant.clientId]));
  const origins = new Map<string, ExchangeOrigin>();
  for (const [id, parent] of parentsAmong(grants.map((grant) => grant.id))) {
    origins.set(id, { grantId: parent ?? null, clientId: (parent === undefined ? undefined : clientOf.get(parent)) ?? originalClientId(id) ?? null, rootGrantId: originalGrantId(id)! });
  }
  return origins;
}

/**
 * `<first grant>~x~<random><digest of the subject's grant id>.<subject's client, base64url>`: the
 * same length at every depth of exchanges of exchanges (the id goes into every token record, key
 * and index of the grant). No base64url part holds a dot or the marker.
 */
export function exchangeGrantId(subjectGrantId: string, subjectClientId: string): string {
  const first = originalGrantId(subjectGrantId) ?? subjectGrantId;
  return `${first}${LINK}${randomBytes(12).toString('base64url')}${digestOf(subjectGrantId)}.${Buffer.from(subjectClientId, 'utf8').toString('base64url')}`;
}
