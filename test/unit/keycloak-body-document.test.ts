import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { JsonBody } from '../../src/admin/json-body.ts';
import { scannedDocument } from '../../src/keycloak/body-document.ts';
import { bodyDocument, textDocument, type KeycloakDocumentMembers, type KeycloakExportDocument } from '../../src/keycloak/export-stream.ts';
import { textBlocks } from '../../src/json/members.ts';

const FIXTURES = new URL('../fixtures/keycloak/', import.meta.url);
const fixtureFiles = [
  ...readdirSync(FIXTURES).filter((name) => name.endsWith('.json')),
  ...readdirSync(new URL('realm-export-dir/', FIXTURES)).map((name) => `realm-export-dir/${name}`),
];

/** Every user a read hands over, in order, and what it returns. */
async function readAll(document: KeycloakExportDocument): Promise<KeycloakDocumentMembers & { seen: Array<[unknown, number]> }> {
  const seen: Array<[unknown, number]> = [];
  const read = await document.read((user, index) => void seen.push([user, index]));
  return { ...read, seen };
}

/** The streamed read of a text (what every body was read with before, each time). */
const streamed = (text: string) => textDocument('', { label: '', blocks: () => textBlocks(text, 64), refuse: async (error) => (error instanceof Error ? error : new Error('not JSON')) });

/** A fallback that says whether it was used, and reads as the stream does. */
function watched(text: string): { document: KeycloakExportDocument; reads: () => number } {
  let reads = 0;
  const inner = streamed(text);
  return { document: { name: '', read: (onUser) => ((reads += 1), inner.read(onUser)) }, reads: () => reads };
}

describe("the admin API's Keycloak body: scanned once, each user JSON.parse'd, no stream-json for a body it takes (src/keycloak/body-document.ts)", () => {
  it('reads every fixture Keycloak 26 wrote exactly as the streamed read does, three times, without the streamed read', async () => {
    expect(fixtureFiles.length).to.be.at.least(9);
    for (const name of fixtureFiles) {
      const text = readFileSync(new URL(name, FIXTURES), 'utf8');
      const fallback = watched(text);
      const document = scannedDocument(Buffer.from(text), fallback.document);
      const expected = await readAll(streamed(text));
      for (let read = 0; read < 3; read += 1) expect(await readAll(document), `${name}, read ${read}`).to.deep.equal(expected);
      expect(fallback.reads(), name).to.equal(0);
    }
  });

  it('takes JSON.parse\'s view of odd but valid bodies: a byte-order mark, whitespace, escapes in keys, __proto__, users that are not an array, no users', async () => {
    const bodies = [
      '\uFEFF  {"realm":"a","users":[ {"id":"1"} ,2,"x",null,[{}] ] }\n',
      '{"realm":"a","us\\u0065rs":[{"id":"1"}],"__proto__":{"admin":true},"n":-1.5e3,"t":true,"s":"q\\"uote:,]}"}',
      '{"realm":"a","users":{"not":"an array"}}',
      '{"realm":"a","users":[]}',
      '{"realm":"a"}',
      '{}',
    ];
    for (const text of bodies) {
      const fallback = watched(text);
      const read = await readAll(scannedDocument(Buffer.from(text), fallback.document));
      expect(read, text).to.deep.equal(await readAll(streamed(text)));
      expect(fallback.reads(), text).to.equal(0);
    }
    const proto = await readAll(scannedDocument(Buffer.from(bodies[1]!), watched(bodies[1]!).document));
    expect(Object.getOwnPropertyNames(proto.members)).to.include('__proto__');
  });

  it('leaves to the streamed read, which names where and what, every body it cannot vouch for', async () => {
    const bodies = [
      '{"realm":"a","users":[{"id":"1"},{"id":"2","email":"a","email":"b"}]}',
      '{"realm":"a","users":[],"users":[]}',
      '{"realm":"a","roles":{"realm":[],"realm":[]}}',
      '{"realm":"a","users":[{"id":"1"},{"id":',
      '{"realm":"a","users":[{"id":"1"}]} trailing',
      '{"realm":"a","users":[{"id":"1"},]}',
      '["not", "an object"]',
      '{"realm":"a" "users":[]}',
    ];
    for (const text of bodies) {
      const fallback = watched(text);
      const scanned = await scannedDocument(Buffer.from(text), fallback.document).read(() => undefined).then(() => 'read', (error: unknown) => String(error));
      const direct = await streamed(text).read(() => undefined).then(() => 'read', (error: unknown) => String(error));
      expect(scanned, text).to.equal(direct);
      expect(fallback.reads(), text).to.be.at.least(1);
    }
  });

  it('hands each user over once a read when the streamed read takes over mid-way (it starts again from the body\'s start)', async () => {
    // User 2 holds a member given twice: the scanned read hands users 0 and 1, then leaves the body to the streamed read.
    const text = '{"realm":"a","users":[{"id":"0"},{"id":"1"},{"id":"2","email":"a","email":"b"},{"id":"3"}]}';
    const refusing: Array<[unknown, number]> = [];
    const refused = await scannedDocument(Buffer.from(text), streamed(text)).read((user, index) => void refusing.push([user, index])).then(() => 'read', (error: unknown) => String(error));
    expect(refused).to.equal(await streamed(text).read(() => undefined).then(() => 'read', (error: unknown) => String(error)));
    expect(refusing.map(([, index]) => index)).to.deep.equal([0, 1]);
    // A fallback that reads the whole body (JSON.parse's view): users 0 and 1 from the scan, the rest from it, each once.
    const lenient: KeycloakExportDocument = {
      name: '',
      read: async (onUser) => {
        const { users, ...members } = JSON.parse(text) as { users: unknown[] };
        for (const [index, user] of users.entries()) await onUser(user, index);
        return { members, users: users.length };
      },
    };
    const read = await readAll(scannedDocument(Buffer.from(text), lenient));
    expect(read.seen).to.deep.equal([[{ id: '0' }, 0], [{ id: '1' }, 1], [{ id: '2', email: 'b' }, 2], [{ id: '3' }, 3]]);
    expect(read.users).to.equal(4);
  });

  it('takes a member bigger than a block apart element by element, the event loop turning during the read', async () => {
    const clients = Array.from({ length: 8000 }, (_, index) => ({ clientId: `client-${index}`, redirectUris: [`https://app-${index}.example.com/callback`], attributes: { note: 'n'.repeat(100) } }));
    const users = Array.from({ length: 3000 }, (_, index) => ({ id: `u-${index}`, username: `user-${index}`, attributes: { note: ['m'.repeat(200)] } }));
    const bytes = Buffer.from(JSON.stringify({ realm: 'acme', clients, users }));
    let turns = 0;
    let reading = true;
    const tick = () => {
      turns += 1;
      if (reading) setImmediate(tick);
    };
    setImmediate(tick);
    const read = await readAll(bodyDocument(new JsonBody(bytes)));
    reading = false;
    expect(read.members.clients).to.deep.equal(clients);
    expect(read.seen.map(([user]) => user)).to.deep.equal(users);
    expect(turns, 'event-loop turns during the read').to.be.at.least(Math.floor(bytes.length / (64 * 1024)) / 2);
  });

  it('reads a member nested 20,000 deep (a hostile realm\'s groups) as JSON.parse does, taking apart two levels only (one scan per level made it quadratic: the admin API timed out)', async () => {
    const groups = `[${'{"name":"g","subGroups":['.repeat(20_000)}${']}'.repeat(20_000)}]`;
    const text = `{"realm":"deep","groups":${groups},"users":[{"id":"u"}]}`;
    const fallback = watched(text);
    const read = await readAll(scannedDocument(Buffer.from(text), fallback.document));
    expect(read.members.realm).to.equal('deep');
    // Walked down by a loop: a deep-equal (chai's, JSON.stringify) would itself overflow the stack.
    let level = read.members.groups as Array<{ name: string; subGroups: unknown[] }>;
    let depth = 0;
    while (level.length === 1 && level[0]!.name === 'g') {
      level = level[0]!.subGroups as typeof level;
      depth += 1;
    }
    expect(depth).to.equal(20_000);
    expect(level).to.deep.equal([]);
    expect(read.seen).to.deep.equal([[{ id: 'u' }, 0]]);
    expect(fallback.reads()).to.equal(0);
  });
});
