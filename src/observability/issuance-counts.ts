import type { AuditInput } from './audit-input.ts';

/** How the audit trail stores client_credentials issuances (GATEHOUSE_AUDIT_CLIENT_CREDENTIALS). */
export type ClientCredentialsAudit = 'each' | 'per-minute';

export const COUNT_WINDOW_MS = 60_000;
/** Open (client, address, minute) counters beyond which all of them are written at once. */
const MAX_OPEN_COUNTERS = 10_000;

interface Counter {
  readonly clientId: string | null;
  readonly ip: string | null;
  readonly windowEnd: number;
  first: Date;
  last: Date;
  count: number;
}

/** Whether an audit input is one client_credentials issuance (src/oidc/events.ts `grant.success`). */
export function isClientCredentialsIssuance(input: AuditInput): boolean {
  return input.type === 'token.issued' && input.details?.grantType === 'client_credentials';
}

export interface IssuanceCounts {
  /** Counts one issuance to `clientId` from `ip` at `at`. */
  add(clientId: string | null, ip: string | null, at: Date): void;
  /** The summaries of the windows that ended by `now` (every window with `all`), taken off. */
  take(now: number, all?: boolean): AuditInput[];
  /** When the earliest open window ends (epoch ms); undefined when nothing is counted. */
  nextEnd(): number | undefined;
  /** Whether so many counters are open that they should be written now. */
  full(): boolean;
  size(): number;
}

/**
 * client_credentials issuances counted per client, address and minute (aligned to the clock's
 * minute), each window becoming one `token.issued_summary` audit event when it ends: machine
 * clients take tokens thousands of times a minute, and one stored document per token is the
 * largest cost of that path on a document store (docs/PERFORMANCE.md, fifth round).
 */
export function createIssuanceCounts(windowMs = COUNT_WINDOW_MS, maxOpen = MAX_OPEN_COUNTERS): IssuanceCounts {
  const counters = new Map<string, Counter>();

  function summary({ clientId, ip, first, last, count }: Counter): AuditInput {
    return {
      type: 'token.issued_summary',
      actor: { type: 'client', id: clientId },
      target: null,
      ip,
      at: last,
      requestId: null,
      details: { grantType: 'client_credentials', count, from: first.toISOString(), to: last.toISOString() },
    };
  }

  return {
    add(clientId, ip, at) {
      const windowEnd = (Math.floor(at.getTime() / windowMs) + 1) * windowMs;
      // Client ids are free text: JSON keeps any two (client, address) pairs apart.
      const key = JSON.stringify([windowEnd, clientId, ip]);
      const counter = counters.get(key);
      if (counter === undefined) {
        counters.set(key, { clientId, ip, windowEnd, first: at, last: at, count: 1 });
        return;
      }
      counter.count += 1;
      if (at > counter.last) counter.last = at;
      if (at < counter.first) counter.first = at;
    },
    take(now, all = false) {
      const due: AuditInput[] = [];
      for (const [key, counter] of counters) {
        if (!all && counter.windowEnd > now) continue;
        counters.delete(key);
        due.push(summary(counter));
      }
      return due;
    },
    nextEnd() {
      let earliest: number | undefined;
      for (const counter of counters.values()) if (earliest === undefined || counter.windowEnd < earliest) earliest = counter.windowEnd;
      return earliest;
    },
    full: () => counters.size >= maxOpen,
    size: () => counters.size,
  };
}
