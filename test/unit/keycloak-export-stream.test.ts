import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseFile } from 'stream-json/file/index.js';
import { bodyDocument, parsedDocument, readTokens, textDocument } from '../../src/keycloak/export-stream.ts';
import { KeycloakExportError } from '../../src/keycloak/export-json.ts';
import { keyPlace } from '../../src/json/members.ts';
import { JsonBody } from '../../src/admin/json-body.ts';
import { InvalidRequestError } from '../../src/errors/gatehouse-error.ts';

/** A text in pieces of `size` characters, as a file or a body is read a block at a time. */
async function* pieces(text: string, size: number): AsyncGenerator<string> {
  for (let at = 0; at < text.length; at += size) yield text.slice(at, at + size);
}

describe('a Keycloak export document read as a stream (src/keycloak/export-stream.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-kc-stream-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  /** The document's text read from a file, as `gatehouse import --keycloak` reads it, in blocks of 64 bytes. */
  const read = async (text: string) => {
    const path = join(dir, `doc-${n++}.json`);
    writeFileSync(path, text);
    const users: Array<[unknown, number]> = [];
    const read = await readTokens(parseFile({ streamValues: false, readBlockSize: 64 })(path), (user, index) => void users.push([user, index]));
    return { ...read, seen: users };
  };

  it('gives every member but users as JSON.parse does, and each user in order, one at a time', async () => {
    const document = { realm: 'acme', enabled: true, roles: { realm: [{ name: 'r', composites: null }] }, users: [{ id: 'a', username: 'ada', attributes: { note: ['ü€😀'.repeat(40)] } }, 7, { id: 'b' }], clients: [], n: -1.5e3 };
    const { members, users, seen } = await read(JSON.stringify(document, null, 2));
    const { users: all, ...rest } = document;
    expect(members).to.deep.equal(rest);
    expect(users).to.equal(3);
    expect(seen).to.deep.equal(all.map((user, index) => [user, index]));
    expect(await parsedDocument(document).read(() => undefined)).to.deep.equal({ members: rest, users: 3 });
  });

  it('a parsed document (an admin API body) lets the event loop run between blocks of users: a million of them once held every other request for seconds', async () => {
    const users = Array.from({ length: 5000 }, () => null);
    let turns = 0;
    let seenAtTurn: number | undefined;
    // An event-loop turn that counts itself until the read is over: it runs during the read only if the read yields.
    const tick = () => {
      turns += 1;
      if (seenAtTurn === undefined) setImmediate(tick);
    };
    setImmediate(tick);
    await parsedDocument({ realm: 'acme', users }).read((_user, index) => {
      if (index === users.length - 1) seenAtTurn = turns;
    });
    expect(seenAtTurn, 'event-loop turns during the read').to.be.greaterThan(1);
  });

  it('a document without users, or whose users is not a list, keeps it as a member (the import refuses the latter)', async () => {
    expect((await read('{"realm":"acme"}')).users).to.equal(undefined);
    const odd = await read('{"realm":"acme","users":5}');
    expect(odd).to.deep.include({ members: { realm: 'acme', users: 5 }, users: undefined, seen: [] });
    expect(await parsedDocument({ realm: 'acme', users: 5 }).read(() => undefined)).to.deep.equal({ members: { realm: 'acme', users: 5 }, users: undefined });
  });

  it('a __proto__ member is an own property, as JSON.parse makes it, never the prototype', async () => {
    const { members } = await read('{"realm":"acme","__proto__":{"polluted":true}}');
    expect(Object.getPrototypeOf(members)).to.equal(Object.prototype);
    expect(Object.keys(members)).to.deep.equal(['realm', '__proto__']);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('refuses a document that is not a JSON object, or that ends before its object does, as not an export; a parse error is thrown as it comes', async () => {
    for (const text of ['[1,2]', '"realm"', 'null', '', '{"realm":"acme","users":[{"id":"a"},']) {
      const error = await read(text).then(() => undefined, (caught: unknown) => caught);
      expect(error, text).to.be.instanceOf(KeycloakExportError);
    }
    const error = await read('{"realm":"acme","users":[{"id":"a"},}').then(() => undefined, (caught: unknown) => caught);
    expect(error).to.be.instanceOf(Error);
    expect(error).to.not.be.instanceOf(KeycloakExportError);
  });

  describe('a member given twice in one object', () => {
    /** The refusal of reading `text` as the CLI and the admin API read it (textDocument), in pieces of `size` characters. */
    const refusal = async (text: string, size = 5) => {
      const document = textDocument('', { label: 'f.json', blocks: () => pieces(text, size), refuse: async () => new Error('not JSON') });
      const seen: unknown[] = [];
      const error = await document.read((user) => void seen.push(user)).then(() => undefined, (caught: unknown) => caught);
      expect(error, text).to.be.instanceOf(InvalidRequestError);
      const { details } = error as InvalidRequestError;
      return { detail: details[0]!, seen };
    };

    it('is refused naming it and where the second one is: a top-level users, a nested member, one inside arrays of arrays', async () => {
      const cases = [
        { text: '{"realm":"a","users":[{"id":"1"}],\n "users":[{"id":"2"}]}', path: 'f.json: users', line: 2, column: 2 },
        { text: '{"realm":"a","users":[{"id":"1"},{"id":"2","attributes":{"x":["1"],"x":["2"]}}]}', path: 'f.json: users.1.attributes.x', line: 1, column: 68 },
        { text: '{"realm":"a","m":[[0,{"k":1}],[{"k":1,"k\\"":2,"k":3}]]}', path: 'f.json: m.1.0.k', line: 1, column: 47 },
        { text: '\uFEFF{"realm":"a",\r\n"b":"\\"}\u2028",\r"realm":"b"}', path: 'f.json: realm', line: 4, column: 1 },
      ];
      for (const { text, path, line, column } of cases) {
        for (const size of [1, 7, 1 << 16]) {
          const { detail } = await refusal(text, size);
          expect(detail, `${text} in pieces of ${size}`).to.deep.equal({ path, code: 'duplicate_member', params: { line, column }, message: `is given twice in its object: again at line ${line}, column ${column} (which one counts would be a guess; keep one)` });
        }
      }
    });

    it('the same name in two objects, or at two depths, is no duplicate', async () => {
      const document = textDocument('', { label: '', blocks: () => pieces('{"realm":"a","x":{"realm":1,"x":[{"x":1},{"x":2}]},"users":[{"id":"1","x":1},{"id":"2","x":2}]}', 3), refuse: async () => new Error('not JSON') });
      const seen: unknown[] = [];
      const { members, users } = await document.read((user) => void seen.push(user));
      expect(members).to.deep.equal({ realm: 'a', x: { realm: 1, x: [{ x: 1 }, { x: 2 }] } });
      expect([users, seen]).to.deep.equal([2, [{ id: '1', x: 1 }, { id: '2', x: 2 }]]);
    });

    it('keyPlace finds a key by its order among all keys, never a string value or an escaped quote', async () => {
      const text = '{"a":"{\\"b\\":1,","c":[{"d":"e"},"f"],\n  "g":{}}';
      expect(await keyPlace(pieces(text, 2), 0)).to.deep.equal({ line: 1, column: 2 });
      expect(await keyPlace(pieces(text, 2), 1)).to.deep.equal({ line: 1, column: 18 });
      expect(await keyPlace(pieces(text, 2), 2)).to.deep.equal({ line: 1, column: 24 });
      expect(await keyPlace(pieces(text, 2), 3)).to.deep.equal({ line: 2, column: 3 });
      expect(await keyPlace(pieces(text, 2), 4)).to.equal(undefined);
    });
  });

  it('an admin API body is parsed a block at a time, the event loop turning between blocks (JSON.parse of 64 MiB held every other request for a second)', async () => {
    // No users: the members alone take many blocks of 64 KiB (about 1.3 MB of clients).
    const clients = Array.from({ length: 8000 }, (_, index) => ({ clientId: `client-${index}`, redirectUris: [`https://app-${index}.example.com/callback`], attributes: { note: 'n'.repeat(100) } }));
    const bytes = Buffer.from(JSON.stringify({ realm: 'acme', clients }));
    const blocks = Math.floor(bytes.length / (64 * 1024));
    expect(blocks, 'blocks of the body').to.be.at.least(16);
    let turns = 0;
    let reading = true;
    // An event-loop turn that counts itself while the read goes on: it runs during the read only if the read yields.
    const tick = () => {
      turns += 1;
      if (reading) setImmediate(tick);
    };
    setImmediate(tick);
    const { members } = await bodyDocument(new JsonBody(bytes)).read(() => undefined);
    reading = false;
    expect((members.clients as unknown[]).length).to.equal(clients.length);
    expect(turns, 'event-loop turns during the read').to.be.at.least(blocks / 2);
  });
});
