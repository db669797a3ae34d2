import { expect } from 'chai';
import { createAuditTrail, type AuditCollection } from '../../src/observability/audit-trail.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { runInRequest } from '../../src/observability/request-context.ts';

/** A collection whose writes the test controls: each insertMany waits until released. */
function heldCollection() {
  const writes: Array<{ docs: unknown[]; release: (ok: boolean) => void }> = [];
  const waiters: Array<() => void> = [];
  const collection = {
    insertMany(docs: unknown[]) {
      return new Promise((resolve, reject) => {
        writes.push({ docs, release: (ok) => (ok ? resolve({}) : reject(new Error('MongoNetworkError'))) });
        for (const wake of waiters.splice(0)) wake();
      });
    },
  } as unknown as AuditCollection;
  /** Resolves once `count` writes have been started (events are checked against their schema first, asynchronously). */
  async function started(count: number): Promise<void> {
    while (writes.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
  }
  return { collection, writes, started };
}

const event = (type: 'token.issued') => ({ type, actor: { type: 'client' as const, id: 'c' } });

describe('audit trail writer (batched)', () => {
  it('never waits for the database: record returns while a write hangs, and writes come in batches', async () => {
    const { collection, writes, started } = heldCollection();
    // A timer no test waits for: only a full batch can start a write here.
    const audit = createAuditTrail({ collection, logger: createLogger('silent'), flushIntervalMs: 3_600_000, maxBatch: 3 });
    runInRequest({ requestId: 'req-12345678' }, () => audit.record(event('token.issued')));
    expect(writes, 'nothing written synchronously').to.have.length(0);
    audit.record(event('token.issued'));
    audit.record(event('token.issued'));
    await started(1);
    expect(writes[0]!.docs, 'a full batch goes without waiting for the timer').to.have.length(3);
    expect((writes[0]!.docs[0] as { requestId: string }).requestId).to.equal('req-12345678');
    for (let i = 0; i < 5; i += 1) audit.record(event('token.issued'));
    expect(audit.pending(), 'records keep being accepted while the write hangs').to.equal(8);
    expect(writes, 'one write at a time').to.have.length(1);
    writes[0]!.release(true);
    await started(2);
    expect(writes[1]!.docs).to.have.length(3);
    writes[1]!.release(true);
    while (audit.writing) await new Promise((resolve) => setImmediate(resolve));
    expect(writes, 'less than a batch waits for the timer (or a flush), not written at once').to.have.length(2);
    expect(audit.pending()).to.equal(2);
    const flushed = audit.flush();
    await started(3);
    expect(writes[2]!.docs).to.have.length(2);
    writes[2]!.release(true);
    await flushed;
    expect(audit.pending()).to.equal(0);
  });

  it('keeps events across a failed write and bounds the buffer, counting what it drops', async () => {
    const { collection, writes, started } = heldCollection();
    let dropped = 0;
    const audit = createAuditTrail({ collection, logger: createLogger('silent'), flushIntervalMs: 10, maxBatch: 100, maxBuffered: 4, onDropped: (n: number) => (dropped += n) });
    audit.record(event('token.issued'));
    const flushed = audit.flush();
    await started(1);
    writes[0]!.release(false);
    await flushed;
    expect(audit.pending(), 'the failed batch waits for a retry').to.equal(1);
    for (let i = 0; i < 5; i += 1) audit.record(event('token.issued'));
    expect(audit.pending()).to.equal(4);
    expect(dropped).to.equal(2);
    // The retry timer is unref'd; the held collection simply never answers again.
  });

  it('checks every event against the audit event schema: one that breaks it is logged and not stored, the rest are', async () => {
    const { collection, writes, started } = heldCollection();
    const lines: string[] = [];
    const logger = createLogger('error', { write: (line: string) => lines.push(line) });
    const audit = createAuditTrail({ collection, logger, flushIntervalMs: 3_600_000, maxBatch: 100 });
    audit.record(event('token.issued'));
    audit.record({ type: 'no.such.event' as 'token.issued', actor: { type: 'client', id: 'c' } });
    audit.record({ type: 'token.issued', actor: { type: 'robot' as 'client', id: 'c' } });
    const flushed = audit.flush();
    await started(1);
    writes[0]!.release(true);
    await flushed;
    expect(writes[0]!.docs).to.have.length(1);
    // Written compact: the client is the client actor's id, not repeated (compactAuditEvent).
    expect(writes[0]!.docs[0]).to.deep.include({ type: 'token.issued', actor: { type: 'client', id: 'c' } });
    expect(writes[0]!.docs[0]).not.to.have.property('client');
    expect(audit.pending()).to.equal(0);
    const refused = lines.map((line) => JSON.parse(line) as { msg: string; type: string }).filter((entry) => entry.msg.startsWith('audit event refused'));
    expect(refused.map((entry) => entry.type)).to.have.members(['no.such.event', 'token.issued']);
  });

  it('writes 500 events a command by default: 499 wait for the timer, the 500th sends them all', async () => {
    const { collection, writes, started } = heldCollection();
    const audit = createAuditTrail({ collection, logger: createLogger('silent'), flushIntervalMs: 3_600_000 });
    for (let i = 0; i < 499; i += 1) audit.record(event('token.issued'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes, 'less than a batch waits').to.have.length(0);
    audit.record(event('token.issued'));
    await started(1);
    expect(writes[0]!.docs).to.have.length(500);
    writes[0]!.release(true);
    while (audit.writing) await new Promise((resolve) => setImmediate(resolve));
    expect(audit.pending()).to.equal(0);
  });

  it('stores an event as it was recorded: a caller changing its details or target afterwards changes nothing', async () => {
    const { collection, writes, started } = heldCollection();
    const audit = createAuditTrail({ collection, logger: createLogger('silent'), flushIntervalMs: 3_600_000 });
    const details: Record<string, unknown> = { grantType: 'client_credentials' };
    const target = { type: 'user', id: 'u1' };
    audit.record({ type: 'token.issued', actor: { type: 'client', id: 'c' }, target, details });
    details.grantType = 'changed';
    details.extra = 'added later';
    target.id = 'u2';
    const flushed = audit.flush();
    await started(1);
    writes[0]!.release(true);
    await flushed;
    expect(writes[0]!.docs[0]).to.deep.include({ details: { grantType: 'client_credentials' }, target: { type: 'user', id: 'u1' } });
  });

  it('logs each event at info with the id it is stored under, and builds no line below info', async () => {
    const { collection, writes, started } = heldCollection();
    const lines: string[] = [];
    const destination = { write: (line: string) => lines.push(line) };
    const audit = createAuditTrail({ collection, logger: createLogger('info', destination), flushIntervalMs: 3_600_000 });
    runInRequest({ requestId: 'req-12345678', ip: '203.0.113.7' }, () => audit.record({ type: 'token.issued', actor: { type: 'client', id: 'c' }, details: { grantType: 'client_credentials' } }));
    const quiet = createAuditTrail({ collection, logger: createLogger('warn', destination), flushIntervalMs: 3_600_000 });
    quiet.record(event('token.issued'));
    const flushed = audit.flush();
    await started(1);
    writes[0]!.release(true);
    await flushed;
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged, 'one line, from the trail at info').to.have.length(1);
    const stored = writes[0]!.docs[0] as { _id: { toHexString(): string } };
    expect(logged[0]).to.deep.include({ audit: true, eventId: stored._id.toHexString(), type: 'token.issued', msg: 'token.issued', client: 'c', ip: '203.0.113.7', requestId: 'req-12345678', details: { grantType: 'client_credentials' } });
    expect(logged[0]!.actor).to.deep.equal({ type: 'client', id: 'c', username: null });
  });
});
