import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { ensureAuditIndexes, migrateLegacyAuditEvents } from '../../src/observability/audit-collection-setup.ts';
import { AUDIT_COLLECTION, auditCollection, createAuditTrail, type AuditCollection, type AuditTrail } from '../../src/observability/audit-trail.ts';
import { AUDIT_EVENT_TYPES } from '../../src/observability/audit-types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { runInRequest } from '../../src/observability/request-context.ts';
import { insertCommand } from '../../src/storage/insert-command.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { databaseForSuite } from '../helpers/stores.ts';

describe('audit trail: one writer, one shape, one collection (real MongoDB-wire store)', () => {
  const database = databaseForSuite('audit_trail');
  let mongo: Connection;
  let collection: AuditCollection;
  let trail: AuditTrail;

  before(async () => {
    mongo = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    collection = auditCollection(mongo.db!);
    await ensureAuditIndexes(collection);
  });
  beforeEach(async () => {
    await collection.deleteMany({});
    // Written as the server writes it: one raw insert command per batch.
    trail = createAuditTrail({ collection, insert: insertCommand(mongo.db!, AUDIT_COLLECTION), logger: createLogger('silent') });
  });
  afterEach(() => trail.close());
  after(async () => {
    await mongo.close();
  });

  it('pages by id: events of the same millisecond are neither skipped nor repeated', async () => {
    const at = new Date('2026-01-01T00:00:00.000Z');
    for (let i = 0; i < 7; i += 1) trail.record({ type: 'token.issued', at, actor: { type: 'client', id: 'svc' }, details: { n: i } });
    await trail.flush();
    const seen: number[] = [];
    let before: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const result = await trail.query({ limit: 3, before });
      seen.push(...result.events.map((event) => event.details.n as number));
      if (result.next === null) break;
      before = result.next;
    }
    expect(seen).to.deep.equal([6, 5, 4, 3, 2, 1, 0]);
  });

  it('stores one shape: actor with username, client (defaulting to a client actor), the request\'s address and id', async () => {
    const written = await runInRequest({ requestId: 'req-audit-1', ip: '203.0.113.7' }, () =>
      trail.write({ type: 'signin.success', actor: { type: 'user', id: 'u1', username: 'alice' }, client: 'web-app' }),
    );
    await trail.write({ type: 'keys.rotated', actor: { type: 'client', id: 'ops-bot' } });
    const { events } = await trail.query({ limit: 10 });
    expect(events.map((event) => event.type)).to.deep.equal(['keys.rotated', 'signin.success']);
    expect(events[1]).to.deep.include({ id: written.id, actor: { type: 'user', id: 'u1', username: 'alice' }, client: 'web-app', ip: '203.0.113.7', requestId: 'req-audit-1' });
    expect(events[0]).to.deep.include({ actor: { type: 'client', id: 'ops-bot', username: null }, client: 'ops-bot', ip: null, requestId: null });
  });

  it('writes events compact (no null fields, no client repeating a client actor; details as given) and shows them in the one shape', async () => {
    await runInRequest({ requestId: 'req-audit-2', ip: '203.0.113.9' }, () =>
      trail.record({ type: 'token.issued', actor: { type: 'client', id: 'svc' }, target: null, details: { grantType: 'client_credentials' } }),
    );
    await trail.write({ type: 'keys.rotated', actor: { type: 'system', id: null }, details: {} });
    // A null inside details is kept: a reader could not tell it from a member never written (user.password_reset's secondFactor is documented as null).
    await trail.write({ type: 'grant.revoked', actor: { type: 'client', id: 'svc' }, client: null, target: { type: 'grant', id: null }, details: { reason: null } });
    const raw = await collection.find({}, { projection: { _id: 0, at: 0 } }).sort({ _id: 1 }).toArray();
    expect(raw).to.deep.equal([
      { type: 'token.issued', actor: { type: 'client', id: 'svc' }, ip: '203.0.113.9', details: { grantType: 'client_credentials' }, requestId: 'req-audit-2' },
      { type: 'keys.rotated', actor: { type: 'system' } },
      // A client actor's event that names no client keeps its explicit null (else it would read as the actor).
      { type: 'grant.revoked', actor: { type: 'client', id: 'svc' }, client: null, target: { type: 'grant' }, details: { reason: null } },
    ]);
    const { events } = await trail.query({ limit: 10 });
    expect(events.map(({ id: _id, at: _at, ...event }) => event)).to.deep.equal([
      { type: 'grant.revoked', actor: { type: 'client', id: 'svc', username: null }, client: null, target: { type: 'grant', id: null }, ip: null, details: { reason: null }, requestId: null },
      { type: 'keys.rotated', actor: { type: 'system', id: null, username: null }, client: null, target: null, ip: null, details: {}, requestId: null },
      { type: 'token.issued', actor: { type: 'client', id: 'svc', username: null }, client: 'svc', target: null, ip: '203.0.113.9', details: { grantType: 'client_credentials' }, requestId: 'req-audit-2' },
    ]);
    const byClient = await trail.query({ limit: 10, clientId: 'svc' });
    expect(byClient.events.map((event) => event.type), 'found by the client actor').to.deep.equal(['grant.revoked', 'token.issued']);
    expect(await trail.count({ clientId: 'svc', types: ['token.issued'] })).to.equal(1);
  });

  it('filters by type, by user id or username, by client, by time', async () => {
    await trail.write({ type: 'signin.success', actor: { type: 'user', id: 'u1', username: 'alice' }, client: 'web-app' });
    await trail.write({ type: 'user.disabled', actor: { type: 'cli', id: 'root' }, target: { type: 'user', id: 'u1' } });
    await trail.write({ type: 'signin.failure', actor: { type: 'anonymous', id: null }, client: 'other-app', details: { reason: 'unknown_user' } });
    const types = async (query: Parameters<AuditTrail['query']>[0]) => (await trail.query(query)).events.map((event) => event.type);
    expect(await types({ limit: 10, users: ['alice'] })).to.deep.equal(['signin.success']);
    expect(await types({ limit: 10, users: ['u1'] })).to.deep.equal(['user.disabled', 'signin.success']);
    expect(await types({ limit: 10, clientId: 'other-app' })).to.deep.equal(['signin.failure']);
    expect(await types({ limit: 10, types: ['user.disabled'] })).to.deep.equal(['user.disabled']);
    expect(await types({ limit: 10, to: new Date(Date.now() - 60_000) })).to.deep.equal([]);
  });

  it('re-keys events stored with UUID ids (before one shape) so they sort by time', async () => {
    const legacy = mongo.db!.collection<{ _id: string; at: Date; type: string; actor: { type: string; id: string } }>('audit_events');
    await legacy.insertOne({ _id: 'a7c1d0e2-1111-4222-8333-944455556666', at: new Date('2025-06-01T10:00:00Z'), type: 'client.created', actor: { type: 'cli', id: 'root' } });
    await trail.write({ type: 'client.deleted', actor: { type: 'cli', id: 'root' } });
    expect(await migrateLegacyAuditEvents(collection)).to.equal(1);
    expect(await migrateLegacyAuditEvents(collection)).to.equal(0);
    const { events } = await trail.query({ limit: 10 });
    expect(events.map((event) => event.type)).to.deep.equal(['client.deleted', 'client.created']);
    expect(events[1]).to.deep.include({ at: new Date('2025-06-01T10:00:00Z'), actor: { type: 'cli', id: 'root', username: null }, client: null, ip: null });
    expect(events[1]!.id).to.match(/^[0-9a-f]{24}$/);
  });

  it('every event type is documented in the README', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const missing = Object.keys(AUDIT_EVENT_TYPES).filter((type) => !readme.includes(`\`${type}\``));
    expect(missing).to.deep.equal([]);
  });
});
