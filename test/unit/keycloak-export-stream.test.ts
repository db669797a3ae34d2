import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseFile } from 'stream-json/file/index.js';
import { parsedDocument, readTokens } from '../../src/keycloak/export-stream.ts';
import { KeycloakExportError } from '../../src/keycloak/export-json.ts';

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
});
