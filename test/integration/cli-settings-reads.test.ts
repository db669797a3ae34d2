import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { openRuntimeSettings } from '../../src/settings/runtime.ts';
import { watchMongoCommands } from '../../src/storage/command-watch.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { testConfig } from '../helpers/config.ts';
import { databaseForSuite, randomSecret } from '../helpers/stores.ts';

/**
 * Every CLI command and every server start opens the runtime settings (src/settings/runtime.ts):
 * five groups, one document each. Counted on the connection, not timed: the number of MongoDB
 * commands does not depend on the machine.
 */
describe('runtime settings at start: one read serves every group (commands counted on the connection)', function () {
  this.timeout(60_000);
  const database = databaseForSuite('cli_settings_reads');
  let connection: Connection;
  /** `command collection` of every MongoDB command counted. */
  const sent: string[] = [];
  const config = () => testConfig({ MONGODB_URI: database.uri, GATEHOUSE_SECRET: randomSecret() });
  const logger = { warn: () => {} };

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000, watchCommands: true });
    watchMongoCommands(connection, (_store, command, target) => sent.push(`${command} ${target ?? '-'}`));
  });
  after(async () => {
    await connection.close();
  });

  const open = async () => {
    sent.length = 0;
    const settings = await openRuntimeSettings({ config: config(), mongo: connection, redis: undefined, logger, now: () => 0 });
    const reads = sent.filter((entry) => entry.endsWith(' settings'));
    return { settings, reads };
  };

  it('on an empty database: one find of the settings collection, not one per group (there were five)', async () => {
    const { settings, reads } = await open();
    expect(reads).to.deep.equal(['find settings']);
    expect(settings.groups.map((group) => group.group.id)).to.deep.equal(['sign-in', 'password-policy', 'brute-force', 'mfa', 'otp']);
    // The defaults, from memory: nothing read since.
    sent.length = 0;
    expect((await settings.bruteForce.current()).lockout_threshold).to.equal(config().lockout.threshold);
    expect(sent).to.deep.equal([]);
    await settings.close();
  });

  it('with stored changes in several groups: still one find, and each group finds its own document', async () => {
    const writer = await openRuntimeSettings({ config: config(), mongo: connection, redis: undefined, logger, now: () => 0 });
    await writer.bruteForce.update({ lockout_threshold: 7 });
    await writer.otp.update({ otp_digits: 8 });
    await writer.passwordPolicy.update({ password_min_length: 14 });
    await writer.close();
    const { settings, reads } = await open();
    expect(reads).to.deep.equal(['find settings']);
    sent.length = 0;
    expect((await settings.bruteForce.current()).lockout_threshold).to.equal(7);
    expect((await settings.otp.current()).otp_digits).to.equal(8);
    expect((await settings.passwordPolicy.current()).password_min_length).to.equal(14);
    expect((await settings.mfa.current()).mfa_required_roles).to.deep.equal([]);
    expect(sent, 'served from what the one read found').to.deep.equal([]);
    await settings.close();
  });
});
