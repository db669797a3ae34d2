import { expect } from 'chai';
import { AUDIT_SWEEP_INTERVAL_MS, startAuditRetention } from '../../src/observability/audit-retention.ts';
import { createLogger } from '../../src/observability/logger.ts';

/**
 * FerretDB v1 keeps audit retention with a sweeper whose `at <= cutoff` reads every stored event
 * (no range pushdown): it runs hourly, not every minute (docs/PERFORMANCE.md, perf20). The sweeps
 * themselves (and the sweep on a clock jump) are test/integration/one-clock.test.ts's.
 */
describe('audit retention sweeper interval (src/observability/audit-retention.ts)', () => {
  it('sweeps FerretDB v1’s audit collection hourly by default', async () => {
    const armed: number[] = [];
    const original = globalThis.setInterval;
    globalThis.setInterval = ((handler: () => void, ms: number) => {
      armed.push(ms);
      return original(handler, ms);
    }) as typeof setInterval;
    try {
      // A collection the sweeper never reaches before it is stopped.
      const sweeper = await startAuditRetention({ collection: {} as never, retentionDays: 30, logger: createLogger('silent'), ferretDbV1: true });
      await sweeper?.stop();
    } finally {
      globalThis.setInterval = original;
    }
    expect(AUDIT_SWEEP_INTERVAL_MS).to.equal(3_600_000);
    expect(armed).to.deep.equal([AUDIT_SWEEP_INTERVAL_MS]);
  });
});
