import { expect } from 'chai';
import { Types } from 'mongoose';
import { auditEventSchema, auditEventShape, isStoredAuditShape, type StoredAuditEvent } from '../../src/observability/audit-model.ts';
import { validated } from '../../src/storage/validated-writes.ts';

function sample(): StoredAuditEvent {
  return {
    _id: new Types.ObjectId(),
    at: new Date('2026-11-29T18:00:00Z'),
    type: 'token.issued',
    actor: { type: 'client', id: 'svc', username: null },
    client: 'svc',
    target: { type: 'api', id: 'https://api.example' },
    ip: '127.0.0.1',
    details: { grantType: 'client_credentials', scopes: ['read'], nested: { at: new Date(0) } },
    requestId: 'req-12345678',
  };
}

describe('audit events already in their stored shape skip mongoose', () => {
  it('names every field of the schema, and accepts exactly what the schema would store unchanged', async () => {
    const doc = sample();
    expect(Object.keys(doc).sort(), 'a new schema field must be added to isStoredAuditShape (and here)').to.deep.equal(Object.keys(auditEventSchema.paths).sort());
    expect(isStoredAuditShape(doc)).to.equal(true);
    expect(await validated(auditEventShape, { ...doc, details: structuredClone(doc.details) })).to.deep.equal(doc);
    const bare = { ...sample(), target: null, client: null, ip: null, requestId: null, details: {}, actor: { type: 'anonymous', id: null, username: null } };
    expect(isStoredAuditShape(bare)).to.equal(true);
    expect(await validated(auditEventShape, { ...bare })).to.deep.equal(bare);
  });

  it('leaves everything else to the schema (cast, defaults or refusal)', () => {
    const variants: Array<[string, (doc: Record<string, unknown>) => void]> = [
      ['a missing field (a default to apply)', (doc) => delete doc.details],
      ['an unknown field', (doc) => (doc.extra = 1)],
      ['an unknown event type', (doc) => (doc.type = 'nope')],
      ['an id as a string (to cast)', (doc) => (doc._id = new Types.ObjectId().toHexString())],
      ['a time as a string (to cast)', (doc) => (doc.at = '2026-11-29T18:00:00Z')],
      ['an invalid date', (doc) => (doc.at = new Date('x'))],
      ['an unknown actor type', (doc) => (doc.actor = { type: 'robot', id: null, username: null })],
      ['an actor without username', (doc) => (doc.actor = { type: 'client', id: 'svc' })],
      ['an actor id as a number', (doc) => (doc.actor = { type: 'client', id: 7, username: null })],
      ['an empty target type (required)', (doc) => (doc.target = { type: '', id: null })],
      ['a target with an extra field', (doc) => (doc.target = { type: 'api', id: null, more: 1 })],
      ['details as an array', (doc) => (doc.details = [])],
      ['an ip as a number', (doc) => (doc.ip = 7)],
    ];
    for (const [name, change] of variants) {
      const doc = sample() as unknown as Record<string, unknown>;
      change(doc);
      expect(isStoredAuditShape(doc), name).to.equal(false);
    }
  });
});
