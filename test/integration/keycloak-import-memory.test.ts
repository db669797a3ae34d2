import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { KEYCLOAK_USER_BATCH } from '../../src/operations/keycloak-import.ts';
import { runCli, spawnCappedCli, type Exit } from '../helpers/process.ts';
import { dropDatabase, freshDatabaseUri, insertMany, randomSecret } from '../helpers/stores.ts';

/**
 * Users Gatehouse already holds (inserted straight into the database), among them the ones the
 * export brings again: each batch looks its own users up (by id), never all of them at once.
 */
const STORED_USERS = 1_000;
/**
 * Users in the realm file, and in the directory's users file (`kc.sh export --dir …
 * --users-per-file 500`): ten batches of KEYCLOAK_USER_BATCH in one file, so the directory case
 * fails if a users file is read whole, not only if the directory is.
 */
const USERS = Number(process.env.KEYCLOAK_IMPORT_MEMORY_USERS ?? 500);
/**
 * What makes each user big: an attribute Gatehouse does not import (reported, skipped), this many
 * characters long (~97 KB of JSON a user with its profile URLs; ~48 MB a file, ~4.8 MB a batch).
 */
const NOTES_CHARACTERS = Number(process.env.KEYCLOAK_IMPORT_MEMORY_NOTES ?? 90_000);
/**
 * The V8 old space the importing CLI is given, with a margin both ways: this code completes both
 * cases with ~68 MiB (checked at load 10-30 in the nineteenth session, 64 too little for the
 * directory case: ~31 MiB of its own modules and connections, the rest a batch, the parser's
 * blocks and the duplicate-member check's keys, more while marking lags on a busy machine); the
 * code that parsed each file whole (331a3c6) still runs out with 104 MiB. 84 sits between the
 * two (72 left the passing side ~4 MiB, which a busy CI machine may take).
 */
const HEAP_MIB = Number(process.env.KEYCLOAK_IMPORT_MEMORY_HEAP_MIB ?? 84);
const INSERT_BATCH = 1_000;
/** A URL attribute of each user, at the admin API's longest (2048 characters). */
const url = (index: number, kind: string) => `https://cdn.example.com/${kind}/${String(index).padStart(2048 - 34, 'p')}.png`;
const FIXTURE = fileURLToPath(new URL('../fixtures/keycloak/realm-export-dir', import.meta.url));
const id = (index: number) => `00000000-0000-4000-9000-${String(index).padStart(12, '0')}`;
/** A Keycloak argon2 credential (the fixture's, so it verifies as Keycloak's do). */
const CREDENTIAL = (JSON.parse(readFileSync(join(FIXTURE, 'acme-dir-users-0.json'), 'utf8')) as { users: Array<{ credentials: unknown[] }> }).users[0]!.credentials[0];

/** The user as Gatehouse stores it (src/accounts/user-model.ts), with long profile URLs: an earlier import of the realm's (a re-import updates only those). */
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
    importedFrom: { kind: 'keycloak', realm: 'acme-dir' },
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
 * capped (--max-old-space-size), a dry run of a re-import of big users into a deployment of a
 * thousand completes, from one realm file (`kc.sh export --file`, users inline) as from a
 * directory whose users file holds ten batches. An import that reads a file whole, or every
 * current user first, runs out of that heap. A dry run reads, checks, maps and looks up exactly as
 * the import does, and writes nothing (writes cost three times the CPU here, and hold no user
 * beyond its batch; test/integration/keycloak-dir-import.test.ts imports for real). A limit, not a
 * measurement: no clock and no sampling.
 */
describe('gatehouse import --keycloak holds a batch of users, not the file nor every user (a capped heap, real stores)', function () {
  this.timeout(600_000);
  const database = { uri: '' };
  /** Made when the suite runs (not when mocha loads the file, in a process that may not run it), removed after. */
  let scratch: string | undefined;
  const secret = randomSecret();
  const env = () => ({ NODE_ENV: 'test', MONGODB_URI: database.uri, GATEHOUSE_SECRET: secret, GATEHOUSE_ISSUER: 'https://id.example.com' });
  const realm = () => JSON.parse(readFileSync(join(FIXTURE, 'acme-dir-realm.json'), 'utf8')) as Record<string, unknown>;
  const cappedCli = (args: string[]): Promise<Exit> => spawnCappedCli(args, env(), HEAP_MIB);

  before(async () => {
    expect(USERS / KEYCLOAK_USER_BATCH, 'a file holds many batches').to.be.at.least(10);
    scratch = mkdtempSync(join(tmpdir(), 'gatehouse-kc-memory-'));
    database.uri = freshDatabaseUri('keycloak_import_memory');
    // Once through the CLI first: the composition creates the collections and their indexes.
    const first = await runCli(['import', '--keycloak', join(FIXTURE, 'acme-dir-realm.json')], env());
    expect(first.code, first.stderr).to.equal(0);
    const at = new Date('2026-06-01T08:00:00Z');
    await insertMany(database.uri, 'users', STORED_USERS, INSERT_BATCH, (index) => storedUser(index, at));
  });
  after(async () => {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    if (database.uri !== '') await dropDatabase(database.uri);
  });

  /** The dry run's report: every user found (updated), their hashes kept, no conflict. */
  const expectEveryUser = (exit: Exit) => {
    expect(exit.code, exit.stderr.slice(-2000)).to.equal(0);
    expect(exit.stdout).to.include('dry run (nothing written)');
    expect(exit.stdout).to.include(`users: 0 new, ${USERS} updated`);
    expect(exit.stdout).to.include(`kept password hashes: argon2 ${USERS}`);
    expect(exit.stdout).to.not.include('conflict:');
  };

  it(`a realm file (kc.sh export --file) with ${USERS} big users inline, into a deployment of ${STORED_USERS} users, with ${HEAP_MIB} MiB of heap`, async () => {
    const file = join(scratch!, 'acme-dir-realm-with-users.json');
    writeFileSync(file, JSON.stringify({ ...realm(), users: Array.from({ length: USERS }, (_, index) => keycloakUser(index)) }, null, 2));
    expectEveryUser(await cappedCli(['import', '--keycloak', file, '--dry-run']));
  });

  it(`a kc.sh export --dir directory whose users file holds ${USERS} big users (${USERS / KEYCLOAK_USER_BATCH} batches), with ${HEAP_MIB} MiB`, async () => {
    const dir = join(scratch!, 'export');
    cpSync(join(FIXTURE, 'acme-dir-realm.json'), join(dir, 'acme-dir-realm.json'));
    writeFileSync(join(dir, 'acme-dir-users-0.json'), JSON.stringify({ realm: 'acme-dir', users: Array.from({ length: USERS }, (_, index) => keycloakUser(index)) }, null, 2));
    expectEveryUser(await cappedCli(['import', '--keycloak', dir, '--dry-run']));
  });
});
