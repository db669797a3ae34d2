import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

/**
 * GATEHOUSE_ADMIN_USERNAME is the first administrator's username: one the username rule refuses
 * (a space, a service account's name `service-account-…`) stops startup naming the setting, as
 * any bad setting does, instead of failing later when the administrator is created.
 */
const production = { GATEHOUSE_ISSUER: 'https://sso.example.com', MONGODB_URI: 'mongodb://db.example.com/gatehouse', GATEHOUSE_SECRET: 'x'.repeat(40), GATEHOUSE_ADMIN_PASSWORD: 'bootstrap-password-1' };
const readFile = (path: string): string => {
  throw new Error(`ENOENT: ${path}`);
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ env, readFile });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('GATEHOUSE_ADMIN_USERNAME follows the username rule', () => {
  it('a service account name or a malformed one stops startup naming the setting', () => {
    expect(problemsOf({ ...production, GATEHOUSE_ADMIN_USERNAME: 'service-account-root' })).to.deep.equal(['GATEHOUSE_ADMIN_USERNAME: must not start with "service-account-" (any case): that is the name a client\'s service account has in its tokens']);
    expect(problemsOf({ ...production, GATEHOUSE_ADMIN_USERNAME: 'Service-Account-Root' })).to.have.length(1);
    expect(problemsOf({ ...production, GATEHOUSE_ADMIN_USERNAME: 'has space' })).to.deep.equal(['GATEHOUSE_ADMIN_USERNAME: must be 1-64 letters, digits, ".", "_" or "-"']);
  });

  it('a valid username loads', () => {
    expect(problemsOf({ ...production, GATEHOUSE_ADMIN_USERNAME: 'root' })).to.deep.equal([]);
    expect(loadConfig({ env: { ...production, GATEHOUSE_ADMIN_USERNAME: 'service-accounts' }, readFile }).admin?.username).to.equal('service-accounts');
  });
});
