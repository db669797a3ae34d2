import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { MAIL_KINDS } from '../../src/mail/mailer.ts';
import type { FailureReason } from '../../src/accounts/password-authentication.ts';
import { LIMITER_NAMES } from '../../src/observability/limiter-names.ts';
import { createMetrics } from '../../src/observability/metrics.ts';

/**
 * What operators are told to alert on and graph must exist: every metric and label value that
 * docs/prometheus-alerts.yml and README's Metrics section name is checked against a real
 * registry fed with every value its metrics can take. A renamed metric or label fails here
 * instead of leaving an alert that silently never fires.
 */

interface Series {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

const FAILURE_REASONS: readonly FailureReason[] = ['unknown_user', 'wrong_password', 'no_password', 'locked', 'disabled'];
/** Labels Prometheus adds to every series it scrapes (the target's), not the exposition's. */
const TARGET_LABELS = new Set(['instance', 'job']);
/** Series Prometheus makes itself for every target. */
const SCRAPE_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/** A registry that has seen every value each of Gatehouse's metrics takes from a fixed set. */
async function everySeries(): Promise<Series[]> {
  const metrics = createMetrics();
  for (const status of [200, 400, 500, 503]) metrics.observeRequest({ route: 'token', method: 'POST', status }, 0.01);
  metrics.tokenIssued('authorization_code');
  metrics.tokenError('invalid_grant');
  metrics.onAuthentication({ outcome: 'success' });
  for (const reason of FAILURE_REASONS) metrics.onAuthentication({ outcome: 'failure', reason, lockedForSeconds: reason === 'locked' ? 60 : null });
  metrics.onOperation({ model: 'Session', store: 'mongodb', operation: 'find', durationMs: 1 });
  metrics.onHash({ type: 'rejected' });
  metrics.onHash({ type: 'completed', op: 'verify', waitMs: 1, runMs: 50 });
  metrics.watchHashPool(() => ({ size: 2, workers: 1, busy: 0, queued: 0 }));
  metrics.watchSigningKeys(() => 86_400);
  metrics.auditDropped(1);
  for (const store of ['mongodb', 'redis']) metrics.storeUnavailable(store);
  for (const outcome of ['delivered', 'failed', 'timed_out'] as const) metrics.backchannelLogout(outcome);
  for (const limiter of LIMITER_NAMES) metrics.rateLimitFallback(limiter);
  for (const kind of MAIL_KINDS) for (const outcome of ['sent', 'retry', 'failed'] as const) metrics.mailDelivery(kind, outcome);
  metrics.idleCollection(10);
  for (const outcome of ['admitted', 'refused'] as const) metrics.signInWait(outcome);
  const text = await metrics.registry.metrics();
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
      if (!match) throw new Error(`unreadable exposition line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]));
      return { name: match[1]!, labels };
    });
}

interface Matcher {
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

/** The metric selectors of one PromQL expression: each metric name with its label matchers. */
function selectors(expr: string): { name: string; matchers: Matcher[] }[] {
  const found: { name: string; matchers: Matcher[] }[] = [];
  for (const match of expr.matchAll(/\b((?:gatehouse|nodejs|process)_[a-z0-9_]+|up)\b\s*(\{[^}]*\})?/g)) {
    const matchers = [...(match[2] ?? '').matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => ({
      label: m[1]!,
      op: m[2] as Matcher['op'],
      value: m[3]!.replace(/\\(.)/g, '$1'),
    }));
    found.push({ name: match[1]!, matchers });
  }
  return found;
}

const matches = (matcher: Matcher, value: string | undefined): boolean => {
  const actual = value ?? '';
  switch (matcher.op) {
    case '=':
      return actual === matcher.value;
    case '!=':
      return actual !== matcher.value;
    case '=~':
      return new RegExp(`^(?:${matcher.value})$`).test(actual);
    case '!~':
      return !new RegExp(`^(?:${matcher.value})$`).test(actual);
  }
};

/** Label names an expression groups or joins by: `by (a, b)`, `without (c)`, `on (d)`. */
const groupingLabels = (expr: string): string[] =>
  [...expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((label) => label.trim()).filter(Boolean));

describe('alert rules and the README Metrics section name metrics that exist', () => {
  let series: Series[];
  before(async () => {
    series = await everySeries();
  });

  const rules = readFileSync(new URL('../../docs/prometheus-alerts.yml', import.meta.url), 'utf8');
  const exprs = [...rules.matchAll(/^\s*expr:\s*(.+)$/gm)].map((m) => m[1]!.trim());

  it('docs/prometheus-alerts.yml: one single-line expr per alert, each named once', () => {
    const alerts = [...rules.matchAll(/^\s*- alert:\s*(\S+)\s*$/gm)].map((m) => m[1]!);
    expect(alerts.length).to.be.greaterThan(5);
    expect(exprs).to.have.length(alerts.length);
    expect(new Set(alerts).size).to.equal(alerts.length);
  });

  it('every metric an alert reads exists, with a series its label matchers select', () => {
    for (const expr of exprs) {
      for (const { name, matchers } of selectors(expr)) {
        if (SCRAPE_SERIES.has(name)) continue;
        const ofName = series.filter((s) => s.name === name);
        expect(ofName, `${name} (in ${expr}) is not in /metrics`).to.not.be.empty;
        const own = matchers.filter((m) => !TARGET_LABELS.has(m.label));
        for (const matcher of own) {
          expect(
            ofName.some((s) => matcher.label in s.labels),
            `${name} has no label ${matcher.label} (in ${expr})`,
          ).to.equal(true);
        }
        expect(
          ofName.some((s) => own.every((m) => matches(m, s.labels[m.label]))),
          `no series of ${name} matches ${JSON.stringify(own)} (in ${expr})`,
        ).to.equal(true);
      }
    }
  });

  it('every label an alert groups by is a target label or a label of the metrics it reads', () => {
    for (const expr of exprs) {
      const names = selectors(expr).map((s) => s.name).filter((name) => !SCRAPE_SERIES.has(name));
      const labels = new Set(series.filter((s) => names.includes(s.name)).flatMap((s) => Object.keys(s.labels)));
      for (const label of groupingLabels(expr)) {
        expect(TARGET_LABELS.has(label) || labels.has(label), `by (${label}) in ${expr}`).to.equal(true);
      }
    }
  });

  it("README's Metrics section: every gatehouse_ metric it names exists, and it lists every mail kind and limiter", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('\n### Metrics\n'), readme.indexOf('\n### Backups and restore\n'));
    expect(section.length).to.be.greaterThan(100);
    const names = new Set(series.map((s) => s.name.replace(/_(bucket|sum|count)$/, '')));
    for (const name of new Set(section.match(/\bgatehouse_[a-z0-9_]+\b/g))) {
      expect(names.has(name) || names.has(`${name}_total`), `README names ${name}`).to.equal(true);
    }
    for (const kind of MAIL_KINDS) expect(section, `mail kind ${kind}`).to.include(`\`${kind}\``);
    for (const limiter of LIMITER_NAMES) expect(section, `limiter ${limiter}`).to.include(`\`${limiter}\``);
  });
});
