import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { LIMITER_NAMES } from '../../src/observability/limiter-names.ts';
import { createMetrics } from '../../src/observability/metrics.ts';

/** Every `.limiter('name'` in src/: the attempt limiters the code opens. */
function limitersInUse(dir = 'src'): string[] {
  const names: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) names.push(...limitersInUse(path));
    else if (entry.name.endsWith('.ts')) for (const match of readFileSync(path, 'utf8').matchAll(/\.limiter\(\s*'([^']+)'/g)) names.push(match[1]!);
  }
  return names;
}

describe('attempt limiters as metric labels', () => {
  it('every limiter the code opens is in LIMITER_NAMES (email_change and email_change_resend were missing)', () => {
    const used = [...new Set(limitersInUse())].sort();
    expect(used).to.include.members(['client_auth', 'email_change', 'email_change_resend', 'registration_email']);
    expect(used.filter((name) => !(LIMITER_NAMES as readonly string[]).includes(name)), 'opened but not a metric label').to.deep.equal([]);
  });

  it('a fallback of each limiter is counted under its own name, anything else as other', async () => {
    const metrics = createMetrics();
    for (const name of LIMITER_NAMES) metrics.rateLimitFallback(name);
    metrics.rateLimitFallback('not_a_limiter');
    const text = await metrics.registry.getSingleMetricAsString('gatehouse_rate_limit_fallback_total');
    for (const name of LIMITER_NAMES) expect(text, name).to.include(`gatehouse_rate_limit_fallback_total{limiter="${name}"} 1`);
    expect(text).to.include('gatehouse_rate_limit_fallback_total{limiter="other"} 1');
  });
});
