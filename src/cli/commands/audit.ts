import { command } from '../command-line.ts';
import type { FlagsOf } from '../flag-errors.ts';
import { readOperations } from '../services.ts';

/** The query's fields are the flags' names (src/cli/flag-errors.ts). */
export const AUDIT_FLAGS: FlagsOf = Object.fromEntries(['type', 'user', 'client', 'from', 'to', 'before', 'limit'].map((name) => [name, `--${name}`]));

/**
 * gatehouse audit [--type T] [--user ID|USERNAME] [--client ID] [--from ISO] [--to ISO]
 *                 [--before EVENT_ID] [--limit N] [--json]
 * Newest first; the query and its validation are the admin API's (GET /audit-events).
 */
const OPTIONS = {
  type: { type: 'string' },
  user: { type: 'string' },
  client: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  before: { type: 'string' },
  limit: { type: 'string' },
} as const;

export const auditCommand = command({ options: OPTIONS }, async (ctx, { values }) => {
  const { json: _json, ...query } = values;
  const page = await readOperations(ctx, (ops) => ops.audit.query(query));
  if (ctx.json) {
    ctx.out(JSON.stringify(page));
    return;
  }
  for (const event of page.events) {
    const actor = event.actor.username ?? (event.actor.id === null ? event.actor.type : `${event.actor.type}:${event.actor.id}`);
    const target = event.target === null ? '' : `  ${event.target.type}:${event.target.id ?? '-'}`;
    ctx.out(`${event.at}  ${event.type}  ${actor}  client:${event.client ?? '-'}  ip:${event.ip ?? '-'}${target}`);
  }
  if (page.next !== null) ctx.out(`(older events: --before ${page.next})`);
});
