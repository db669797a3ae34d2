import { expect } from 'chai';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/config/load.ts';
import { configuredSettingProblems, withCheckedSettings } from '../../src/settings/configured-check.ts';

/**
 * The runtime settings' configured values held at startup to the rules the admin API holds a
 * change to (src/settings/configured-check.ts): a role name the API refuses cannot come in
 * through the environment instead.
 */
const production = { GATEHOUSE_ISSUER: 'https://sso.example.com', MONGODB_URI: 'mongodb://db.example.com/gatehouse', GATEHOUSE_SECRET: 'x'.repeat(40) };
const readFile = (path: string): string => {
  throw new Error(`ENOENT: ${path}`);
};
const problemsWith = (env: Record<string, string>) => configuredSettingProblems(loadConfig({ env: { ...production, ...env }, readFile }));

describe('runtime settings: configured values checked at startup', () => {
  it('takes the defaults, and role and group names with single spaces between words', () => {
    expect(problemsWith({})).to.deep.equal([]);
    expect(problemsWith({ GATEHOUSE_DEFAULT_ROLES: 'viewer, Order Manager', GATEHOUSE_MFA_REQUIRED_GROUPS: '/Sales Team,/ops', GATEHOUSE_MFA_REQUIRED_ROLES: 'finance' })).to.deep.equal([]);
  });

  it('names the variable and the name for two spaces in a row, a tab, an invisible character', () => {
    expect(problemsWith({ GATEHOUSE_DEFAULT_ROLES: 'viewer, Order  Manager' })).to.deep.equal([
      'GATEHOUSE_DEFAULT_ROLES: "Order  Manager": may hold single spaces between words, but no tabs, line breaks, other spaces or two spaces in a row',
    ]);
    expect(problemsWith({ GATEHOUSE_MFA_REQUIRED_GROUPS: '/Sales\tTeam' })).to.deep.equal([
      'GATEHOUSE_MFA_REQUIRED_GROUPS: "/Sales\\tTeam": may hold single spaces between words, but no tabs, line breaks, other spaces or two spaces in a row',
      // A tab is also a control character: both rules say so, as the admin API's answer does.
      'GATEHOUSE_MFA_REQUIRED_GROUPS: "/Sales\\tTeam": must not contain control characters or invisible formatting characters (such as a right-to-left override)',
    ]);
    expect(problemsWith({ GATEHOUSE_MFA_REQUIRED_ROLES: 'finance,admin\u200B' })).to.deep.equal([
      'GATEHOUSE_MFA_REQUIRED_ROLES: "admin\u200B": must not contain control characters or invisible formatting characters (such as a right-to-left override)',
    ]);
  });

  it('names a self-registration domain that is no domain', () => {
    const problems = problemsWith({ GATEHOUSE_SELF_REGISTRATION_DOMAINS: 'example.com, not a domain' });
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/^GATEHOUSE_SELF_REGISTRATION_DOMAINS: "not a domain": /);
  });

  it('throws a ConfigError listing every problem, or hands the configuration back', () => {
    const good = loadConfig({ env: production, readFile });
    expect(withCheckedSettings(good)).to.equal(good);
    const bad = loadConfig({ env: { ...production, GATEHOUSE_DEFAULT_ROLES: 'a  b', GATEHOUSE_MFA_REQUIRED_ROLES: 'c\u3000d' }, readFile });
    expect(() => withCheckedSettings(bad)).to.throw(ConfigError).with.property('problems').that.has.length(2);
  });
});
