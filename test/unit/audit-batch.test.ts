import { expect } from 'chai';
import { createAuditTrail, type AuditCollection } from '../../src/observability/audit-trail.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { runInRequest } from '../../src/observability/request-context.ts';

/** A collection whose writes the test controls: each insertMany waits until released. */
function heldCollection() {
  const writes: Array<{ docs: unknown[]; release: (ok: boolean) => void }> = [];
  const collection = {
    insertMany(docs: unknown[]) {
      return new Promise((resolve, reject) => writes.push({ docs, release: (ok) => (ok ? resolve({}) : reject(new Error('MongoNetworkError'))) }));
    },
  } as unknown as AuditCollection;
  return { collection, writes };
}

const event = (type: 'token.issued') => ({ type, actor: { type: 'client' as const, id: 'c' } });

describe('audit trail writer (batched)', () => {
  it('never waits for the database: record returns while a write hangs, and writes come in batches', async () => {
    const { collection, writes } = heldCollection();
    const audit = createAuditTrail({ collection, logger: createLogger('silent'), flushIntervalMs: 30, maxBatch: 3 });
    runInRequest({ requestId: 'req-12345678' }, () => audit.record(event('token.issued')));
    expect(writes, 'nothing written synchronously').to.have.length(0);
    audit.record(event('token.issued'));
    audit.record(event('token.issued'));
    expect(writes, 'a full batch goes at once').to.have.length(1);
    expect(writes[0]!.docs).to.have.length(3);
    expect((writes[0]!.docs[0] as { requestId: string }).requestId).to.equal('req-12345678');
    for (let i = 0; i < 5; i += 1) audit.record(event('token.issued'));
    expect(audit.pending(), 'records keep being accepted while the write hangs').to.equal(8);
    writes[0]!.release(true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(writes).to.have.length(2);
    writes[1]!.release(true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    writes[2]!.release(true);
    await audit.flush();
    expect(audit.pending()).to.equal(0);
  });

  it('keeps events across a failed write and bounds the buffer, counting what it drops', async () => {
    const { collection, writes } = heldCollection();
    let dropped = 0;
    const audit = createAuditTrail({ collection, logger: createLogger('silent'), flushIntervalMs: 10, maxBatch: 100, maxBuffered: 4, onDropped: (n: number) => (dropped += n) });
    audit.record(event('token.issued'));
    const flushed = audit.flush();
    writes[0]!.release(false);
    await flushed;
    expect(audit.pending(), 'the failed batch waits for a retry').to.equal(1);
    for (let i = 0; i < 5; i += 1) audit.record(event('token.issued'));
    expect(audit.pending()).to.equal(4);
    expect(dropped).to.equal(2);
    // The retry timer is unref'd; the held collection simply never answers again.
  });
});
