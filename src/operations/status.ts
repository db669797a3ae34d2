import { readinessReport, type ReadinessCheck } from '../observability/health.ts';
import { OperationError } from './errors.ts';

export interface StatusDeps {
  /** The server's readiness checks (MongoDB, Redis); the CLI has none. */
  readonly readiness?: Readonly<Record<string, ReadinessCheck>>;
  readonly timeoutMs?: number;
  /** The effective settings with secrets hidden (src/config/effective.ts). */
  readonly settings?: () => Promise<Record<string, unknown>>;
}

/** What the server runs with and whether its stores answer (read-only; nothing audited). */
export function statusOperations({ readiness, timeoutMs = 2000, settings }: StatusDeps) {
  return {
    async health() {
      if (readiness === undefined) throw new OperationError(404, 'health_server_only');
      const report = await readinessReport(readiness, timeoutMs);
      return { status: report.ok ? 'ok' : 'unavailable', checks: report.checks };
    },
    async settings() {
      if (settings === undefined) throw new OperationError(404, 'settings_server_only');
      return settings();
    },
  };
}
