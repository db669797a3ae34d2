import { expect } from 'chai';
import { createAuditTrail, type AuditCollection, type AuditInput } from '../../src/observability/audit-trail.ts';
import type { StoredAuditEvent } from '../../src/observability/audit-model.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { runInRequest } from '../../src/observability/request-context.ts';
import { testClock } from '../helpers/clock.ts';

/** A collection that keeps what it is given. */
function keepingCollection() {
  const stored: StoredAuditEvent[] = [];
  const collection = {
    async insertMany(docs: StoredAuditEvent[]) {
      stored.push(...docs);
      return {};
    },
  } as unknown as AuditCollection;
  return { collection, stored };
}

const issued = (client: string, grantType = 'client_credentials'): AuditInput => ({
  type: 'token.issued',
  actor: { type: 'client', id: client },
  target: null,
  // As src/oidc/events.ts records it: a client_credentials grant has no grant, so no grantId.
  details: { grantType },
});

/** Records an issuance as the token endpoint would: inside a request from `ip`. */
const from = (ip: string, run: () => void) => runInRequest({ requestId: `req-${ip.replaceAll('.', '-')}-0001`, ip }, run);

describe('client_credentials issuances in the audit trail (GATEHOUSE_AUDIT_CLIENT_CREDENTIALS)', () => {
  // Minute-aligned windows: start right after a minute began, so the test's steps stay inside it.
  const minuteClock = async () => {
    const clock = testClock({ frozen: true });
    await clock.advance(60_000 - (clock.now() % 60_000) + 1);
    return clock;
  };

  it('each (the default): one token.issued event per token, with its request id', async () => {
    const clock = await minuteClock();
    const { collection, stored } = keepingCollection();
    const audit = createAuditTrail({ collection, logger: createLogger('silent'), clock, flushIntervalMs: 3_600_000 });
    for (let i = 0; i < 3; i += 1) from('203.0.113.7', () => audit.record(issued('svc')));
    await audit.flush();
    expect(stored.map((doc) => doc.type)).to.deep.equal(['token.issued', 'token.issued', 'token.issued']);
    expect(stored[0]).to.include({ ip: '203.0.113.7', requestId: 'req-203-0-113-7-0001' });
    // Compact (compactAuditEvent): the client is the actor, no null target, no null grantId.
    expect(stored[0]!.actor).to.deep.equal({ type: 'client', id: 'svc' });
    expect(stored[0]!.details).to.deep.equal({ grantType: 'client_credentials' });
    expect(stored[0]).not.to.have.any.keys('client', 'target');
  });

  it('per-minute: one token.issued_summary per client, address and minute, written when the minute ends; other events one by one', async () => {
    const clock = await minuteClock();
    const { collection, stored } = keepingCollection();
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => lines.push(line) });
    const audit = createAuditTrail({ collection, logger, clock, flushIntervalMs: 1000, clientCredentials: 'per-minute' });
    const start = clock.now();
    from('203.0.113.7', () => audit.record(issued('svc')));
    await clock.advance(10_000);
    from('203.0.113.7', () => audit.record(issued('svc')));
    from('203.0.113.7', () => audit.record(issued('svc')));
    from('198.51.100.2', () => audit.record(issued('svc')));
    from('203.0.113.7', () => audit.record(issued('other')));
    from('203.0.113.7', () => audit.record(issued('web', 'authorization_code')));
    expect(audit.pending(), 'only the authorization_code event waits in the buffer').to.equal(1);
    // flush() (tests, shutdown) writes the open counts at once.
    await audit.flush();
    expect(stored.map((doc) => doc.type).sort()).to.deep.equal(['token.issued', 'token.issued_summary', 'token.issued_summary', 'token.issued_summary']);
    const summaries = stored.filter((doc) => doc.type === 'token.issued_summary');
    const svc = summaries.find((doc) => doc.actor.id === 'svc' && doc.ip === '203.0.113.7')!;
    expect(svc.actor).to.deep.equal({ type: 'client', id: 'svc' });
    expect(svc, 'a summary belongs to no request; its client is the actor').not.to.have.any.keys('client', 'requestId', 'target');
    expect(svc.details).to.deep.equal({ grantType: 'client_credentials', count: 3, from: new Date(start).toISOString(), to: new Date(start + 10_000).toISOString() });
    expect(svc.at.getTime()).to.equal(start + 10_000);
    expect(summaries.find((doc) => doc.actor.id === 'svc' && doc.ip === '198.51.100.2')!.details.count).to.equal(1);
    expect(summaries.find((doc) => doc.actor.id === 'other')!.details.count).to.equal(1);
    // The log stream still has every issuance, with its request id.
    const issuances = lines.map((line) => JSON.parse(line) as { msg: string; counted?: boolean; requestId?: string }).filter((entry) => entry.msg === 'token.issued' && entry.counted === true);
    expect(issuances).to.have.length(5);
    expect(issuances[0]!.requestId).to.equal('req-203-0-113-7-0001');
  });

  it('per-minute: the minute’s summary is written by the timer once the minute is over, and the next minute counts afresh', async () => {
    const clock = await minuteClock();
    const { collection, stored } = keepingCollection();
    const audit = createAuditTrail({ collection, logger: createLogger('silent'), clock, flushIntervalMs: 1000, clientCredentials: 'per-minute' });
    for (let i = 0; i < 4; i += 1) from('203.0.113.7', () => audit.record(issued('svc')));
    await clock.advance(30_000);
    expect(stored, 'nothing written inside the minute').to.have.length(0);
    await clock.advance(30_000); // the minute ends: its summary is queued ...
    await clock.advance(1000); // ... and written with the next batch
    await waitFor(() => stored.length === 1);
    expect(stored[0]).to.deep.include({ type: 'token.issued_summary', actor: { type: 'client', id: 'svc' } });
    expect(stored[0]!.details.count).to.equal(4);
    from('203.0.113.7', () => audit.record(issued('svc')));
    await clock.advance(61_000);
    await clock.advance(1000);
    await waitFor(() => stored.length === 2);
    expect(stored[1]!.details.count).to.equal(1);
    await audit.close();
  });

  it('per-minute without a `now` of its own: the minutes are the clock’s, not the wall’s (a frozen clock keeps every token in one minute)', async () => {
    // Frozen a little before a wall-clock minute ends: counted by the wall, the tokens would split.
    const clock = testClock({ frozen: true });
    await clock.advance(60_000 - (clock.now() % 60_000) - 1);
    const { collection, stored } = keepingCollection();
    // As src/composition/core.ts builds it: the clock, no `now`.
    const audit = createAuditTrail({ collection, logger: createLogger('silent'), clock, flushIntervalMs: 3_600_000, clientCredentials: 'per-minute' });
    await clock.advance(365 * 24 * 3_600_000);
    for (let i = 0; i < 3; i += 1) from('203.0.113.7', () => audit.record(issued('svc')));
    const written = await audit.write({ type: 'client.updated', actor: { type: 'cli', id: null }, target: null });
    await audit.close();
    expect(written.at.getTime(), 'an event is stamped with the clock’s time').to.equal(clock.now());
    const summary = stored.find((doc) => doc.type === 'token.issued_summary')!;
    expect(summary.details).to.include({ count: 3, from: new Date(clock.now()).toISOString() });
  });

  it('per-minute: close() writes the minute counted so far (a clean stop loses nothing)', async () => {
    const clock = await minuteClock();
    const { collection, stored } = keepingCollection();
    const audit = createAuditTrail({ collection, logger: createLogger('silent'), clock, flushIntervalMs: 3_600_000, clientCredentials: 'per-minute' });
    for (let i = 0; i < 2; i += 1) from('203.0.113.7', () => audit.record(issued('svc')));
    await audit.close();
    expect(stored.map((doc) => [doc.type, doc.details.count])).to.deep.equal([['token.issued_summary', 2]]);
  });
});

/** Waits (a few event-loop turns, never a wall-clock timeout) until the batched write landed. */
async function waitFor(done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1000 && !done(); turn += 1) await new Promise((resolve) => setImmediate(resolve));
  expect(done(), 'the batch was written').to.equal(true);
}
