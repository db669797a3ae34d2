import { round } from './stats.ts';
import type { Measured } from './load.ts';

export interface Row {
  readonly scenario: string;
  readonly gatehouse: Measured;
  readonly reference?: Measured | undefined;
  /** What the reference column holds when it is not the same request (e.g. JWT introspection). */
  readonly referenceNote?: string;
  readonly extra?: Record<string, unknown>;
}

export function rowSummary(row: Row) {
  const ratio = row.reference !== undefined && row.reference.rps > 0 ? row.gatehouse.rps / row.reference.rps : undefined;
  return {
    scenario: row.scenario,
    rps: round(row.gatehouse.rps),
    p50Ms: round(row.gatehouse.p50Ms),
    p99Ms: round(row.gatehouse.p99Ms),
    errors: row.gatehouse.errors,
    referenceRps: row.reference === undefined ? null : round(row.reference.rps),
    referenceErrors: row.reference?.errors ?? null,
    ratio: ratio === undefined ? null : round(ratio, 2),
    ...(row.referenceNote === undefined ? {} : { referenceNote: row.referenceNote }),
    ...(row.gatehouse.poolExhausted || row.reference?.poolExhausted ? { note: 'token pool ran out before the time was up' } : {}),
    ...row.extra,
  };
}

/** A plain-text table (also valid Markdown). */
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<unknown>>): string {
  const cells = [headers.map(String), ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '—' : String(cell))))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  const line = (row: readonly string[]) => `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [line(cells[0]!), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}
