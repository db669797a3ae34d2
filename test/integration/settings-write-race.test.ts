import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { bruteForceGroup, configuredBruteForce, type BruteForceSettings } from '../../src/settings/brute-force.ts';
import { openSettingsNotices } from '../../src/settings/notices.ts';
import { openSettingsStore, type SettingsStore } from '../../src/settings/store.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { testConfig } from '../helpers/config.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

const ROUNDS = 30;

/**
 * Two operators changing different runtime settings of one group at once (two instances: two
 * stores on one database, each with its own copy). The write was a version compare-and-set
 * (`replaceOne({ _id, version })`), which FerretDB v1 checks on the document it read: both
 * writes matched and the second put the first one's setting back. Both changes must survive.
 */
describe('concurrent runtime settings changes (real MongoDB-wire server)', function () {
  this.timeout(120_000);
  const database = databaseForSuite('settings_write_race');
  // The defaults, as the server configures them from no settings.
  const configured = configuredBruteForce(testConfig({ MONGODB_URI: 'mongodb://127.0.0.1:1/unused', GATEHOUSE_SECRET: randomSecret() }));
  let connection: Connection;
  let first: SettingsStore<BruteForceSettings>;
  let second: SettingsStore<BruteForceSettings>;

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    const logger = { warn: () => {} };
    const open = async () =>
      openSettingsStore(bruteForceGroup, {
        mongo: connection,
        notices: await openSettingsNotices({ redis: undefined, redisPrefix: 'race:', logger }),
        configured,
        pinned: {},
        logger,
        now: () => 0,
      });
    [first, second] = [await open(), await open()];
  });
  after(async () => {
    await connection.close();
  });

  it(`keeps both of two changes to different settings made at once (${ROUNDS} rounds)`, async () => {
    const lost: string[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      await Promise.all([first.update({ lockout_threshold: round }), second.update({ lockout_ip_threshold: 100 + round })]);
      const { stored } = await first.read();
      if (stored.lockout_threshold !== round) lost.push(`${round}: lockout_threshold ${stored.lockout_threshold}`);
      if (stored.lockout_ip_threshold !== 100 + round) lost.push(`${round}: lockout_ip_threshold ${stored.lockout_ip_threshold}`);
    }
    expect(lost, 'rounds that lost one of the two changes').to.deep.equal([]);
  });
});
