import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { KEYCLOAK_USER_BATCH } from '../../src/operations/keycloak-import.ts';
import { runCli, spawnCappedCli, type Exit } from '../helpers/process.ts';
import { dropDatabase, freshDatabaseUri, insertMany, randomSecret } from '../helpers/stores.ts';

/**
 * Users Gatehouse already holds (inserted straight into the database): reading them all at once
 * (the old `exportAll()`, ~6 KB each as objects) takes more heap than the CLI is given.
 */
const STORED_USERS = 1_000;
/** Users in the realm file, and in the users files of the directory: each re-imported (written), so few. */
const USERS = Number(process.env.KEYCLOAK_IMPORT_MEMORY_USERS ?? 300);
/**
 * What makes each of them big: an attribute Gatehouse does not import (reported, skipped), this many
 * characters long. USERS of them are ~21 MB of JSON: read whole, that text and its parse (~2 × 21 MB)
 * are more than the heap below leaves beside the CLI's own modules (the realm file case fails on the
 * code that parsed it whole); a batch (KEYCLOAK_USER_BATCH users, ~3.5 MB) is a fraction of it, with
 * room for the next batch read while one is written on a loaded machine (150 users of 140,000
 * characters — 7 MB a batch — ran out of this heap in CI beside the e2e files). The directory case
 * holds a users file per batch, as kc.sh writes them: it fails if the import reads the directory whole.
 */
const NOTES_CHARACTERS = Number(process.env.KEYCLOAK_IMPORT_MEMORY_NOTES ?? 70_000);
/** The V8 old space the importing CLI is given: its own modules need ~37 MiB (--trace-gc), a batch ~4 MiB more. */
const HEAP_MIB = Number(process.env.KEYCLOAK_IMPORT_MEMORY_HEAP_MIB ?? 56);
/** As kc.sh export writes them by default (--users-per-file 50). */
const USERS_PER_FILE = 50;
const INSERT_BATCH = 1_000;
/** A URL attribute of each user, at the admin API's longest (2048 characters). */
const url = (index: number, kind: string) => `https://cdn.example.com/${kind}/${String(index).padStart(2048 - 34, 'p')}.png`;
const FIXTURE = fileURLToPath(new URL('../fixtures/keycloak/realm-export-dir', import.meta.url));
const id = (index: number) => `00000000-0000-4000-9000-${String(index).padStart(12, '0')}`;
/** A Keycloak argon2 credential (the fixture's, so it verifies as Keycloak's do). */
const CREDENTIAL = (JSON.parse(readFileSync(join(FIXTURE, 'acme-dir-users-0.json'), 'utf8')) as { users: Array<{ credentials: unknown[] }> }).users[0]!.credentials[0];

/** The user as Gatehouse stores it (src/accounts/user-model.ts), with long profile URLs. */
function storedUser(index: number, at: Date) {
  return {
    _id: id(index),
    username: `member${index}`,
    usernameKey: `member${index}`,
    email: `member${index}@example.com`,
    emailKey: `member${index}@example.com`,
    emailVerified: true,
    givenName: 'Given',
    familyName: `Family${index}`,
    name: `Given Family${index}`,
    roles: ['member'],
    groups: [],
    disabled: false,
    attributes: { picture: url(index, 'picture'), website: url(index, 'website'), profile: url(index, 'profile') },
    passwordHash: `$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$${String(index).padStart(43, 'h')}`,
    passwordChangedAt: at,
    lastLoginAt: null,
    createdAt: at,
    updatedAt: at,
  };
}

/** The same user as Keycloak exports it. */
function keycloakUser(index: number) {
  return {
    id: id(index),
    username: `member${index}`,
    email: `member${index}@example.com`,
    emailVerified: true,
    firstName: 'Given',
    lastName: `Family${index}`,
    enabled: true,
    createdTimestamp: Date.parse('2026-06-01T08:00:00Z'),
    attributes: { picture: [url(index, 'picture')], website: [url(index, 'website')], profile: [url(index, 'profile')], notes: [String(index).padStart(NOTES_CHARACTERS, 'n')] },
    credentials: [CREDENTIAL],
    realmRoles: ['default-roles-acme-dir'],
    groups: [],
  };
}

/**
 * A Keycloak import holds the realm without its users, one user as it is read and one batch of
 * users at a time, and looks up the users it needs: run as a process of its own whose V8 heap is
 * capped (--max-old-space-size), a re-import of big users into a deployment of a thousand
 * completes, from one realm file (`kc.sh export --file`, users inline) as from a directory of
 * users files. An import that reads the realm file whole, or the directory, or every current user
 * first runs out of that heap. A limit, not a measurement: no clock and no sampling, the same
 * outcome on a busy machine.
 */
describe('gatehouse import --keycloak holds a batch of users, not the file nor every user (a capped heap, real stores)', function () {
  this.timeout(600_000);
  const database = { uri: '' };
  const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-kc-memory-'));
  const secret = randomSecret();
  const env = () => ({ NODE_ENV: 'test', MONGODB_URI: database.uri, GATEHOUSE_SECRET: secret, GATEHOUSE_ISSUER: 'https://id.example.com' });
  const realm = () => JSON.parse(readFileSync(join(FIXTURE, 'acme-dir-realm.json'), 'utf8')) as Record<string, unknown>;
  const cappedCli = (args: string[]): Promise<Exit> => spawnCappedCli(args, env(), HEAP_MIB);

  before(async () => {
    expect(USERS / KEYCLOAK_USER_BATCH, 'a batch is a fraction of the users').to.be.at.least(3);
    database.uri = freshDatabaseUri('keycloak_import_memory');
    // Once through the CLI first: the composition creates the collections and their indexes.
    const first = await runCli(['import', '--keycloak', join(FIXTURE, 'acme-dir-realm.json')], env());
    expect(first.code, first.stderr).to.equal(0);
    const at = new Date('2026-06-01T08:00:00Z');
    await insertMany(database.uri, 'users', STORED_USERS, INSERT_BATCH, (index) => storedUser(index, at));
  });
  after(async () => {
    rmSync(scratch, { recursive: true, force: true });
    if (database.uri !== '') await dropDatabase(database.uri);
  });

  it(`a realm file (kc.sh export --file) with ${USERS} big users inline, into a deployment of ${STORED_USERS} users, with ${HEAP_MIB} MiB of heap`, async () => {
    const file = join(scratch, 'acme-dir-realm-with-users.json');
    writeFileSync(file, JSON.stringify({ ...realm(), users: Array.from({ length: USERS }, (_, index) => keycloakUser(index)) }, null, 2));
    const exit = await cappedCli(['import', '--keycloak', file]);
    expect(exit.code, exit.stderr.slice(-2000)).to.equal(0);
    expect(exit.stdout).to.include(`users: 0 new, ${USERS} updated`);
    expect(exit.stdout).to.include(`kept password hashes: argon2 ${USERS}`);
    expect(exit.stdout).to.not.include('conflict:');
  });

  it(`a kc.sh export --dir directory of ${USERS / USERS_PER_FILE} users files of big users, with ${HEAP_MIB} MiB: every user updated`, async () => {
    const dir = join(scratch, 'export');
    cpSync(join(FIXTURE, 'acme-dir-realm.json'), join(dir, 'acme-dir-realm.json'));
    const first = STORED_USERS - USERS;
    for (let file = 0; file * USERS_PER_FILE < USERS; file += 1) {
      const users = Array.from({ length: Math.min(USERS_PER_FILE, USERS - file * USERS_PER_FILE) }, (_, offset) => keycloakUser(first + file * USERS_PER_FILE + offset));
      writeFileSync(join(dir, `acme-dir-users-${file}.json`), JSON.stringify({ realm: 'acme-dir', users }, null, 2));
    }
    const exit = await cappedCli(['import', '--keycloak', dir]);
    expect(exit.code, exit.stderr.slice(-2000)).to.equal(0);
    expect(exit.stdout).to.include(`users: 0 new, ${USERS} updated`);
    expect(exit.stdout).to.include(`kept password hashes: argon2 ${USERS}`);
    expect(exit.stdout).to.not.include('conflict:');
  });
});
