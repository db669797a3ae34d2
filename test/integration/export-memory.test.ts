import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runCli, spawnCappedCli, type Exit } from '../helpers/process.ts';
import { dropDatabase, freshDatabaseUri, insertMany, randomSecret } from '../helpers/stores.ts';

/**
 * Users inserted straight into the database, ~3.4 KB each (a long picture address): ~15 MB in
 * all, enough that holding them all at once exceeds HEAP_MIB, while a batch of the streaming
 * export (500 users) is ~1.7 MB. Measured with the export from before streaming (fe97783^, as
 * its own process like here): it ran out of heap at 64 and at 80 MiB unencrypted, and at 64 and
 * 72 MiB encrypted; today's export completes at 52 MiB in both modes and fails at 44 (the CLI's
 * own modules). Fewer, larger users than before (10,000 of ~2 KB): the same proof, under half
 * the documents for FerretDB to insert and serve twice.
 */
const USERS = Number(process.env.EXPORT_MEMORY_USERS ?? 4_500);
/** The V8 old space the exporting process is given: 12 MiB above what today's export needs, 16 below what holding the users whole did. */
const HEAP_MIB = Number(process.env.EXPORT_MEMORY_HEAP_MIB ?? 64);
const INSERT_BATCH = 1_500;
const PICTURE_CHARACTERS = Number(process.env.EXPORT_MEMORY_PICTURE ?? 3_000);

/** The user document as Gatehouse stores it (src/accounts/user-model.ts), small and unique per index. */
function storedUser(index: number, at: Date) {
  const id = `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;
  return {
    _id: id,
    username: `user${index}`,
    usernameKey: `user${index}`,
    email: `user${index}@example.com`,
    emailKey: `user${index}@example.com`,
    emailVerified: true,
    givenName: 'Given',
    familyName: `Family${index}`,
    name: `Given Family${index}`,
    roles: [],
    groups: [],
    disabled: false,
    attributes: { picture: `https://cdn.example.com/avatars/${String(index).padStart(PICTURE_CHARACTERS, 'p')}.png` },
    passwordHash: `$argon2id$v=19$m=19456,t=2,p=1$${'c2FsdHNhbHRzYWx0'}$${String(index).padStart(43, 'h')}`,
    passwordChangedAt: at,
    lastLoginAt: null,
    createdAt: at,
    updatedAt: at,
  };
}

/**
 * `gatehouse export` streams from the database to the file (plain and encrypted): run as a process
 * of its own whose V8 heap is capped (--max-old-space-size), an export of tens of thousands of users
 * completes. An export built whole in memory before it is written runs out of that heap. A limit,
 * not a measurement: no clock and no sampling, the same outcome on a busy machine.
 */
describe('gatehouse export holds a batch, not the whole export (a capped heap, real stores)', function () {
  this.timeout(600_000);
  // A database of its own, dropped afterwards: emptying one of this many users document by document takes long on FerretDB.
  const database = { uri: '' };
  const tag = randomBytes(4).toString('hex');
  const clear = join(tmpdir(), `gatehouse-export-memory-${tag}.json`);
  const sealed = join(tmpdir(), `gatehouse-export-memory-${tag}.jwe.json`);
  const passFile = join(tmpdir(), `gatehouse-export-memory-${tag}.pass`);
  const secret = randomSecret();
  // GATEHOUSE_MONGODB_TIMEOUT 30 s (a socket timeout of 180 s, src/storage/mongo.ts): FerretDB
  // reading and sorting thousands of users took over the default 30 s at load 29 ("connection 2
  // to … timed out"), a machine's load, not the export's memory.
  const env = () => ({ NODE_ENV: 'test', MONGODB_URI: database.uri, GATEHOUSE_SECRET: secret, GATEHOUSE_ISSUER: 'https://id.example.com', GATEHOUSE_MONGODB_TIMEOUT: '30' });

  const cappedCli = (args: string[], heapMiB: number): Promise<Exit> => spawnCappedCli(args, env(), heapMiB);

  before(async () => {
    database.uri = freshDatabaseUri('export_memory');
    writeFileSync(passFile, `passphrase-${randomBytes(12).toString('hex')}\n`, { mode: 0o600 });
    // Once through the CLI first: the composition creates the collections and their indexes.
    const first = await runCli(['export', '--output', clear, '--unencrypted'], env());
    expect(first.code, first.stderr).to.equal(0);
    rmSync(clear);
    const at = new Date('2026-06-01T08:00:00Z');
    await insertMany(database.uri, 'users', USERS, INSERT_BATCH, (index) => storedUser(index, at));
  });
  after(async () => {
    for (const path of [clear, sealed, passFile]) rmSync(path, { force: true });
    if (database.uri !== '') await dropDatabase(database.uri);
  });

  it(`--unencrypted: ${USERS} users written with ${HEAP_MIB} MiB of heap, every one of them in the file`, async () => {
    const exit = await cappedCli(['export', '--output', clear, '--unencrypted', '--json'], HEAP_MIB);
    expect(exit.code, exit.stderr.slice(-2000)).to.equal(0);
    expect(JSON.parse(exit.stdout)).to.include({ encrypted: false, users: USERS });
    const text = readFileSync(clear, 'utf8');
    const document = JSON.parse(text) as { users: Array<{ _id: string; username: string; createdAt: string }> };
    expect(text === `${JSON.stringify(document, null, 2)}\n`, 'laid out as JSON.stringify(document, null, 2) lays it out').to.equal(true);
    expect(document.users).to.have.length(USERS);
    expect(document.users.at(-1)).to.include({ _id: storedUser(USERS - 1, new Date())._id, username: `user${USERS - 1}`, createdAt: '2026-06-01T08:00:00.000Z' });
  });

  it(`--passphrase-file: the same with ${HEAP_MIB} MiB, and the sealed file opens to all of them (import --dry-run)`, async () => {
    const exit = await cappedCli(['export', '--output', sealed, '--passphrase-file', passFile, '--json'], HEAP_MIB);
    expect(exit.code, exit.stderr.slice(-2000)).to.equal(0);
    expect(JSON.parse(exit.stdout)).to.include({ encrypted: true, users: USERS });
    const checked = await runCli(['import', '--input', sealed, '--passphrase-file', passFile, '--dry-run', '--json'], env());
    expect(checked.code, checked.stderr).to.equal(0);
    expect(JSON.parse(checked.stdout)).to.include({ dry_run: true, encrypted: true, users: USERS });
  });
});
