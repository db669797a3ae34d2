import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { runMain } from '../helpers/process.ts';

const SECRET = 'x'.repeat(40);
const files = new Map<string, string>();
const readFile = (path: string) => {
  const content = files.get(path);
  if (content === undefined) throw new Error(`ENOENT: ${path}`);
  return content;
};
const production = {
  GATEHOUSE_ISSUER: 'https://sso.example.com',
  MONGODB_URI: 'mongodb://db.example.com/gatehouse',
  GATEHOUSE_SECRET: SECRET,
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ env, readFile });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return expect.fail('expected a ConfigError');
}

describe('configuration', () => {
  it('loads a complete production configuration with defaults', () => {
    const config = loadConfig({ env: production, readFile });
    expect(config.env).to.equal('production');
    expect(config.issuer).to.equal('https://sso.example.com');
    expect(config.port).to.equal(3000);
    expect(config.refreshReuseWindowSeconds).to.equal(10);
    expect(config.logLevel).to.equal('info');
    expect(config.redisUrl).to.equal(undefined);
    expect(Object.isFrozen(config)).to.equal(true);
  });

  it('names every wrong setting, one problem per line', () => {
    const problems = problemsOf({
      GATEHOUSE_ISSUER: 'not a url',
      GATEHOUSE_SECRET: 'short',
      GATEHOUSE_LOG_LEVEL: 'loud',
      PORT: 'eighty',
    });
    expect(problems.some((p) => p.startsWith('GATEHOUSE_ISSUER:'))).to.equal(true);
    expect(problems.some((p) => p.startsWith('GATEHOUSE_SECRET:') && p.includes('32'))).to.equal(true);
    expect(problems.some((p) => p.startsWith('GATEHOUSE_LOG_LEVEL:'))).to.equal(true);
    expect(problems.some((p) => p.startsWith('PORT:'))).to.equal(true);
    expect(problems.some((p) => p.startsWith('MONGODB_URI:'))).to.equal(true);
  });

  it('names GATEHOUSE_MAIL_FROM missing beside SMTP in the same run as another wrong setting, not at the next start', () => {
    const problems = problemsOf({ ...production, GATEHOUSE_SECRET: 'short', GATEHOUSE_SMTP_URL: 'smtp://mail.example.com:587' });
    expect(problems.some((p) => p.startsWith('GATEHOUSE_SECRET:'))).to.equal(true);
    expect(problems).to.include('GATEHOUSE_MAIL_FROM: is required with GATEHOUSE_SMTP_URL (the From: address of every email)');
    const given = problemsOf({ ...production, GATEHOUSE_SECRET: 'short', GATEHOUSE_SMTP_URL: 'smtp://mail.example.com:587', GATEHOUSE_MAIL_FROM: 'Sign-in <no-reply@example.com>' });
    expect(given.some((p) => p.startsWith('GATEHOUSE_MAIL_FROM:'))).to.equal(false);
    expect(problemsOf({ ...production, GATEHOUSE_SMTP_URL: 'smtp://mail.example.com:587' })).to.deep.equal(['GATEHOUSE_MAIL_FROM: is required with GATEHOUSE_SMTP_URL (the From: address of every email)']);
  });

  it('requires the issuer and MongoDB only in production', () => {
    const config = loadConfig({ env: { NODE_ENV: 'development', GATEHOUSE_SECRET: SECRET, PORT: '4000' }, readFile });
    expect(config.issuer).to.equal('http://localhost:4000');
    expect(config.mongodbUri.reveal()).to.match(/^mongodb:\/\//);
  });

  it('rejects an issuer with a query string', () => {
    expect(problemsOf({ ...production, GATEHOUSE_ISSUER: 'https://sso.example.com/?a=1' })[0]).to.match(
      /^GATEHOUSE_ISSUER: .*query/,
    );
  });

  it('reads secrets from NAME_FILE and refuses both forms at once', () => {
    files.set('/run/secrets/gh', `${'s'.repeat(40)}\n`);
    const config = loadConfig({ env: { ...production, GATEHOUSE_SECRET: '', GATEHOUSE_SECRET_FILE: '/run/secrets/gh' }, readFile });
    expect(config.secret.reveal()).to.equal('s'.repeat(40));
    expect(problemsOf({ ...production, GATEHOUSE_SECRET_FILE: '/run/secrets/gh' })[0]).to.match(/^GATEHOUSE_SECRET:.*not both/);
    expect(problemsOf({ ...production, GATEHOUSE_SECRET: '', GATEHOUSE_SECRET_FILE: '/missing' })[0]).to.match(
      /^GATEHOUSE_SECRET_FILE: cannot read/,
    );
  });

  it('takes a JSON config file, with the environment winning', () => {
    files.set('/etc/gatehouse.json', JSON.stringify({ ...production, PORT: 8080, GATEHOUSE_LOG_LEVEL: 'warn' }));
    const config = loadConfig({ env: { GATEHOUSE_CONFIG: '/etc/gatehouse.json', GATEHOUSE_LOG_LEVEL: 'debug' }, readFile });
    expect(config.port).to.equal(8080);
    expect(config.logLevel).to.equal('debug');
    files.set('/etc/bad.json', JSON.stringify({ ...production, GATEHOUSE_TYPO: 1 }));
    expect(problemsOf({ GATEHOUSE_CONFIG: '/etc/bad.json' })).to.deep.equal(["GATEHOUSE_TYPO: unknown setting in '/etc/bad.json'"]);
    files.set('/etc/broken.json', '{');
    expect(problemsOf({ ...production, GATEHOUSE_CONFIG: '/etc/broken.json' })[0]).to.match(/^GATEHOUSE_CONFIG: .*not valid JSON/);
  });

  it("quotes, escapes and cuts what it shows of a setting's value (a file path, the config file's keys): it cannot drive the terminal, forge a line or flood it", () => {
    const long = `/etc/${'x'.repeat(500)}.json`;
    expect(problemsOf({ ...production, GATEHOUSE_CONFIG: '/etc/\x1b[31mred\nforged: line.json' })).to.deep.equal(["GATEHOUSE_CONFIG: file '/etc/\\x1b[31mred\\nforged: line.json' cannot be read"]);
    expect(problemsOf({ ...production, GATEHOUSE_CONFIG: long })).to.deep.equal([`GATEHOUSE_CONFIG: file '/etc/${'x'.repeat(55)}…' (510 characters) cannot be read`]);
    files.set('/etc/keys.json', JSON.stringify({ ...production, 'GATEHOUSE_\x1b[2J': 1, PORT: [1] }));
    expect(problemsOf({ GATEHOUSE_CONFIG: '/etc/keys.json' })).to.deep.equal(["GATEHOUSE_\\x1b[2J: unknown setting in '/etc/keys.json'", "PORT: must be a string, number or boolean in '/etc/keys.json'"]);
    expect(problemsOf({ ...production, GATEHOUSE_SECRET: '', GATEHOUSE_SECRET_FILE: '/run/\u202esecret\r' })[0]).to.equal("GATEHOUSE_SECRET_FILE: cannot read '/run/\\u202esecret\\r'");
  });

  it('has key rotation defaults: 1 h publish delay, 14 days retention, no automatic rotation, 5 s poll', () => {
    const { keys } = loadConfig({ env: production, readFile });
    expect(keys).to.deep.equal({ publishDelayMs: 3_600_000, retentionMs: 1_209_600_000, rotationIntervalMs: 0, pollIntervalMs: 5000 });
    expect(Object.isFrozen(keys)).to.equal(true);
  });

  it('takes key rotation settings in seconds, down to 1 s outside production', () => {
    const { keys } = loadConfig({
      env: {
        NODE_ENV: 'test',
        GATEHOUSE_SECRET: SECRET,
        GATEHOUSE_KEY_PUBLISH_DELAY: '1',
        GATEHOUSE_KEY_RETENTION: '2',
        GATEHOUSE_KEY_ROTATION_INTERVAL: '7776000',
        GATEHOUSE_KEY_POLL_INTERVAL: '1',
      },
      readFile,
    });
    expect(keys).to.deep.equal({ publishDelayMs: 1000, retentionMs: 2000, rotationIntervalMs: 7_776_000_000, pollIntervalMs: 1000 });
  });

  it('reads GATEHOUSE_ACCOUNT_CACHE_TTL (default 5, 0 = off) and names a wrong one', () => {
    expect(loadConfig({ env: production, readFile }).accountCacheTtlSeconds).to.equal(5);
    expect(loadConfig({ env: { ...production, GATEHOUSE_ACCOUNT_CACHE_TTL: '0' }, readFile }).accountCacheTtlSeconds).to.equal(0);
    expect(problemsOf({ ...production, GATEHOUSE_ACCOUNT_CACHE_TTL: '-1' })).to.deep.equal(['GATEHOUSE_ACCOUNT_CACHE_TTL: must be at least 0']);
    expect(problemsOf({ ...production, GATEHOUSE_ACCOUNT_CACHE_TTL: 'soon' })[0]).to.match(/^GATEHOUSE_ACCOUNT_CACHE_TTL: must be a number/);
  });

  it('reads GATEHOUSE_SESSION_CACHE_TTL (default 900 with Redis, 0 without; explicit values win) and names a wrong one', () => {
    const withRedis = { ...production, REDIS_URL: 'redis://cache.example.com:6379' };
    expect(loadConfig({ env: withRedis, readFile }).sessionCacheTtlSeconds).to.equal(900);
    expect(loadConfig({ env: production, readFile }).sessionCacheTtlSeconds).to.equal(0);
    expect(loadConfig({ env: { ...production, GATEHOUSE_SESSION_CACHE_TTL: '3' }, readFile }).sessionCacheTtlSeconds).to.equal(3);
    expect(loadConfig({ env: { ...withRedis, GATEHOUSE_SESSION_CACHE_TTL: '0' }, readFile }).sessionCacheTtlSeconds).to.equal(0);
    expect(problemsOf({ ...production, GATEHOUSE_SESSION_CACHE_TTL: '-1' })).to.deep.equal(['GATEHOUSE_SESSION_CACHE_TTL: must be at least 0']);
    expect(problemsOf({ ...production, GATEHOUSE_SESSION_CACHE_TTL: '1.5' })[0]).to.match(/^GATEHOUSE_SESSION_CACHE_TTL: must be a whole number/);
    expect(problemsOf({ ...production, GATEHOUSE_SESSION_CACHE_TTL: 'soon' })[0]).to.match(/^GATEHOUSE_SESSION_CACHE_TTL: must be a number/);
  });

  it('reads GATEHOUSE_DEFAULT_ROLES, the roles every new user gets (comma-separated, each at most 128 characters, at most 100), and names a wrong one', () => {
    expect(loadConfig({ env: production, readFile }).selfService.defaultRoles).to.deep.equal([]);
    expect(loadConfig({ env: { ...production, GATEHOUSE_DEFAULT_ROLES: 'member, viewer,member' }, readFile }).selfService.defaultRoles).to.deep.equal(['member', 'viewer']);
    expect(problemsOf({ ...production, GATEHOUSE_DEFAULT_ROLES: 'x'.repeat(129) })).to.deep.equal(['GATEHOUSE_DEFAULT_ROLES: each role must be at most 128 characters']);
    expect(problemsOf({ ...production, GATEHOUSE_DEFAULT_ROLES: Array.from({ length: 101 }, (_, index) => `r${index}`).join(',') })).to.deep.equal(['GATEHOUSE_DEFAULT_ROLES: must name at most 100 roles']);
    // Every new user (self-registration included) would administer Gatehouse.
    expect(problemsOf({ ...production, GATEHOUSE_DEFAULT_ROLES: 'member, admin' })).to.deep.equal([
      "GATEHOUSE_DEFAULT_ROLES: must not name admin (Gatehouse's administrator role: every new user, self-registered ones included, would administer Gatehouse)",
    ]);
  });

  it("reads GATEHOUSE_INTERACTION_TTL, how long a sign-in may take (default 3600, 60-86400: Keycloak's accessCodeLifespanLogin), and names a wrong one", () => {
    expect(loadConfig({ env: production, readFile }).lifetimes.interaction).to.equal(3600);
    expect(loadConfig({ env: { ...production, GATEHOUSE_INTERACTION_TTL: '1800' }, readFile }).lifetimes.interaction).to.equal(1800);
    expect(problemsOf({ ...production, GATEHOUSE_INTERACTION_TTL: '59' })).to.deep.equal(['GATEHOUSE_INTERACTION_TTL: must be at least 60']);
    expect(problemsOf({ ...production, GATEHOUSE_INTERACTION_TTL: '86401' })).to.deep.equal(['GATEHOUSE_INTERACTION_TTL: must be at most 86400']);
    expect(problemsOf({ ...production, GATEHOUSE_INTERACTION_TTL: '30m' })[0]).to.match(/^GATEHOUSE_INTERACTION_TTL: must be a whole number of seconds/);
  });

  it("keeps the workers accepting connections themselves (SCHED_NONE) unless the operator set Node's NODE_CLUSTER_SCHED_POLICY", () => {
    expect(loadConfig({ env: production, readFile }).clusterSchedulingPolicy).to.equal('none');
    expect(loadConfig({ env: { ...production, NODE_CLUSTER_SCHED_POLICY: 'rr' }, readFile }).clusterSchedulingPolicy).to.equal('rr');
    expect(loadConfig({ env: { ...production, NODE_CLUSTER_SCHED_POLICY: 'none' }, readFile }).clusterSchedulingPolicy).to.equal('none');
    expect(problemsOf({ ...production, NODE_CLUSTER_SCHED_POLICY: 'round-robin' })).to.deep.equal(['NODE_CLUSTER_SCHED_POLICY: must be rr or none']);
  });

  it('reads GATEHOUSE_WORKERS (default 1; auto = one per core); the hash pool divides the cores among the workers', () => {
    const cores = availableParallelism();
    expect(loadConfig({ env: production, readFile })).to.include({ workers: 1 });
    expect(loadConfig({ env: production, readFile }).passwords.poolSize).to.equal(cores);
    expect(loadConfig({ env: { ...production, GATEHOUSE_WORKERS: 'auto' }, readFile }).workers).to.equal(cores);
    const four = loadConfig({ env: { ...production, GATEHOUSE_WORKERS: '4' }, readFile });
    expect(four.workers).to.equal(4);
    expect(four.passwords.poolSize).to.equal(Math.max(1, Math.ceil(cores / 4)));
    expect(loadConfig({ env: { ...production, GATEHOUSE_WORKERS: '4', GATEHOUSE_HASH_POOL_SIZE: '3' }, readFile }).passwords.poolSize).to.equal(3);
    expect(problemsOf({ ...production, GATEHOUSE_WORKERS: '0' })).to.deep.equal(['GATEHOUSE_WORKERS: must be between 1 and 256, or auto']);
    expect(problemsOf({ ...production, GATEHOUSE_WORKERS: 'all' })).to.deep.equal(['GATEHOUSE_WORKERS: must be a whole number of at least 1, or auto']);
    expect(problemsOf({ ...production, GATEHOUSE_WORKERS: '2.5' })).to.deep.equal(['GATEHOUSE_WORKERS: must be a whole number of at least 1, or auto']);
  });

  it('names a variable that looks like a setting but is none, with the setting it resembles (it is ignored, not refused)', () => {
    const config = loadConfig({
      env: { ...production, GATEHOUSE_TRUST_PROXIES: 'true', MONGO_URL: 'mongodb://x/y', GATEHOUSE_METRIC_TOKEN: 'x'.repeat(20), GATEHOUSE_ISSUER_URL: 'https://x' },
      readFile,
    });
    expect(config.trustProxy).to.equal(false);
    expect(config.notices).to.deep.equal([
      'GATEHOUSE_ISSUER_URL: not a setting, ignored (did you mean GATEHOUSE_ISSUER?)',
      'GATEHOUSE_METRIC_TOKEN: not a setting, ignored (did you mean GATEHOUSE_METRICS_TOKEN?)',
      'GATEHOUSE_TRUST_PROXIES: not a setting, ignored (did you mean GATEHOUSE_TRUST_PROXY?)',
      'MONGO_URL: not a setting, ignored (did you mean MONGODB_URI?)',
    ]);
  });

  it('says that an http:// issuer in production leaves cookies without Secure (not for loopback, not outside production)', () => {
    const said = "GATEHOUSE_ISSUER: http:// in production: cookies go without Secure, and applications expect an https:// issuer; set the public https:// URL (behind a TLS proxy, the proxy's)";
    expect(loadConfig({ env: { ...production, GATEHOUSE_ISSUER: 'http://sso.example.com' }, readFile }).notices).to.deep.equal([said]);
    for (const issuer of ['https://sso.example.com', 'http://localhost:3000', 'http://127.0.0.1:3000']) {
      expect(loadConfig({ env: { ...production, GATEHOUSE_ISSUER: issuer }, readFile }).notices, issuer).to.deep.equal([]);
    }
    expect(loadConfig({ env: { ...production, NODE_ENV: 'development', GATEHOUSE_ISSUER: 'http://sso.example.com' }, readFile }).notices).to.deep.equal([]);
  });

  it("says nothing of real settings, NAME_FILE secrets, GATEHOUSE_CONFIG or the scripts' own GATEHOUSE_ variables", () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-notices-'));
    writeFileSync(join(dir, 'secret'), SECRET);
    writeFileSync(join(dir, 'config.json'), '{}');
    const config = loadConfig({
      env: {
        GATEHOUSE_ISSUER: production.GATEHOUSE_ISSUER,
        MONGODB_URI: production.MONGODB_URI,
        GATEHOUSE_SECRET_FILE: join(dir, 'secret'),
        GATEHOUSE_CONFIG: join(dir, 'config.json'),
        GATEHOUSE_TRUST_PROXY: 'true',
        GATEHOUSE_SERVICES_DIR: '/tmp/s',
        GATEHOUSE_SERVICES_STARTED: 'mongo redis',
        GATEHOUSE_FERRETDB_BACKEND: 'sqlite',
        GATEHOUSE_FERRETDB_GOGC: '400',
        GATEHOUSE_PG_DURABLE: '0',
        GATEHOUSE_DEV_SMTP_PORT: '2525',
        GATEHOUSE_TEST_SCREENSHOTS: '1',
        PATH: '/usr/bin',
        HOME: '/root',
      },
      readFile: (path) => readFileSync(path, 'utf8'),
    });
    expect(config.notices).to.deep.equal([]);
  });

  it('names the bound a GATEHOUSE_PROXY_HOPS outside 1–10 misses (0 is a whole number too)', () => {
    expect(problemsOf({ ...production, GATEHOUSE_PROXY_HOPS: '0' })).to.deep.equal(['GATEHOUSE_PROXY_HOPS: must be at least 1']);
    expect(problemsOf({ ...production, GATEHOUSE_PROXY_HOPS: '11' })).to.deep.equal(['GATEHOUSE_PROXY_HOPS: must be at most 10']);
    expect(problemsOf({ ...production, GATEHOUSE_PROXY_HOPS: 'two' })).to.deep.equal(['GATEHOUSE_PROXY_HOPS: must be a whole number']);
  });

  it('names wrong key rotation settings', () => {
    expect(problemsOf({ ...production, GATEHOUSE_KEY_PUBLISH_DELAY: '0' })).to.deep.equal(['GATEHOUSE_KEY_PUBLISH_DELAY: must be at least 1']);
    expect(problemsOf({ ...production, GATEHOUSE_KEY_RETENTION: 'long' })[0]).to.match(/^GATEHOUSE_KEY_RETENTION: must be a number/);
    expect(problemsOf({ ...production, GATEHOUSE_KEY_POLL_INTERVAL: '0.5' })[0]).to.match(/^GATEHOUSE_KEY_POLL_INTERVAL: must be a whole/);
    expect(problemsOf({ ...production, GATEHOUSE_KEY_ROTATION_INTERVAL: '-1' })[0]).to.match(/^GATEHOUSE_KEY_ROTATION_INTERVAL:/);
    expect(problemsOf({ ...production, GATEHOUSE_KEY_ROTATION_INTERVAL: '3600' })[0]).to.match(
      /^GATEHOUSE_KEY_ROTATION_INTERVAL: .*longer than GATEHOUSE_KEY_PUBLISH_DELAY/,
    );
  });

  it('refuses test-sized key timings in production', () => {
    expect(problemsOf({ ...production, GATEHOUSE_KEY_RETENTION: '5' })[0]).to.match(/^GATEHOUSE_KEY_RETENTION: must be at least 3600 in production/);
    expect(problemsOf({ ...production, GATEHOUSE_KEY_PUBLISH_DELAY: '2' })[0]).to.match(/^GATEHOUSE_KEY_PUBLISH_DELAY: must be at least 60 in production/);
  });

  it('never prints secrets when the config is logged or inspected', () => {
    const config = loadConfig({ env: { ...production, REDIS_URL: 'redis://:hunter2@cache:6379' }, readFile });
    const dumped = JSON.stringify(config) + inspect(config, { depth: 5 }) + String(config.secret);
    expect(dumped).not.to.include(SECRET);
    expect(dumped).not.to.include('hunter2');
  });
});

describe('account settings', () => {
  it('defaults to OWASP argon2id parameters, a pool per core and conservative lockouts', () => {
    const config = loadConfig({ env: production, readFile });
    expect(config.passwords.argon2).to.deep.equal({ memoryKiB: 19456, iterations: 2, parallelism: 1 });
    expect(config.passwords.poolSize).to.equal(availableParallelism());
    expect(config.passwords.queueLimit).to.equal(64);
    expect(config.passwords.idleTimeoutMs).to.equal(60_000);
    expect(config.passwords.policy.minLength).to.equal(8);
    expect(config.lockout).to.deep.equal({
      threshold: 5,
      accountThreshold: 20,
      ipThreshold: 100,
      windowSeconds: 3600,
      lockSeconds: 60,
      maxLockSeconds: 86400,
    });
  });

  it('reads every account setting from the environment', () => {
    const config = loadConfig({
      env: {
        ...production,
        GATEHOUSE_ARGON2_MEMORY_KIB: '65536',
        GATEHOUSE_ARGON2_ITERATIONS: '3',
        GATEHOUSE_ARGON2_PARALLELISM: '4',
        GATEHOUSE_HASH_POOL_SIZE: '3',
        GATEHOUSE_HASH_QUEUE_LIMIT: '0',
        GATEHOUSE_HASH_IDLE_TIMEOUT: '0',
        GATEHOUSE_PASSWORD_MIN_LENGTH: '12',
        GATEHOUSE_PASSWORD_MAX_LENGTH: '64',
        GATEHOUSE_PASSWORD_DIGITS: '1',
        GATEHOUSE_PASSWORD_UPPERCASE: '2',
        GATEHOUSE_PASSWORD_NOT_EMAIL: 'true',
        GATEHOUSE_PASSWORD_HISTORY: '5',
        GATEHOUSE_PASSWORD_RESET_TTL: '900',
        GATEHOUSE_LOCKOUT_THRESHOLD: '3',
        GATEHOUSE_LOCKOUT_SECONDS: '1',
        GATEHOUSE_LOCKOUT_MAX_SECONDS: '4',
      },
      readFile,
    });
    expect(config.passwords).to.deep.equal({
      argon2: { memoryKiB: 65536, iterations: 3, parallelism: 4 },
      poolSize: 3,
      queueLimit: 0,
      idleTimeoutMs: 0,
      policy: { minLength: 12, maxLength: 64, digits: 1, lowercase: 0, uppercase: 2, special: 0, notUsername: false, notEmail: true, history: 5 },
      resetEnabled: true,
      resetTtlSeconds: 900,
    });
    expect(config.pinned).to.include.members(['GATEHOUSE_PASSWORD_MAX_LENGTH', 'GATEHOUSE_PASSWORD_HISTORY', 'GATEHOUSE_PASSWORD_NOT_EMAIL']);
    expect(config.lockout).to.include({ threshold: 3, lockSeconds: 1, maxLockSeconds: 4 });
  });

  it('names each wrong account setting', () => {
    const problems = problemsOf({
      ...production,
      GATEHOUSE_ARGON2_MEMORY_KIB: '512',
      GATEHOUSE_ARGON2_ITERATIONS: 'two',
      GATEHOUSE_ARGON2_PARALLELISM: '0',
      GATEHOUSE_HASH_POOL_SIZE: '1.5',
      GATEHOUSE_HASH_QUEUE_LIMIT: '-1',
      GATEHOUSE_HASH_IDLE_TIMEOUT: '-5',
      GATEHOUSE_PASSWORD_MIN_LENGTH: '6',
      GATEHOUSE_LOCKOUT_THRESHOLD: '0',
    });
    for (const name of [
      'GATEHOUSE_ARGON2_MEMORY_KIB',
      'GATEHOUSE_ARGON2_ITERATIONS',
      'GATEHOUSE_ARGON2_PARALLELISM',
      'GATEHOUSE_HASH_POOL_SIZE',
      'GATEHOUSE_HASH_QUEUE_LIMIT',
      'GATEHOUSE_HASH_IDLE_TIMEOUT',
      'GATEHOUSE_PASSWORD_MIN_LENGTH',
      'GATEHOUSE_LOCKOUT_THRESHOLD',
    ]) {
      expect(problems.some((p) => p.startsWith(`${name}:`)), `${name} in ${problems.join('; ')}`).to.equal(true);
    }
  });

  it('refuses a password policy no password could meet, naming the setting', () => {
    expect(problemsOf({ ...production, GATEHOUSE_PASSWORD_MIN_LENGTH: '20', GATEHOUSE_PASSWORD_MAX_LENGTH: '16' })).to.deep.equal(['GATEHOUSE_PASSWORD_MAX_LENGTH: must be at least GATEHOUSE_PASSWORD_MIN_LENGTH']);
    expect(problemsOf({ ...production, GATEHOUSE_PASSWORD_MAX_LENGTH: '10', GATEHOUSE_PASSWORD_DIGITS: '6', GATEHOUSE_PASSWORD_SPECIAL: '5' })).to.deep.equal([
      'GATEHOUSE_PASSWORD_MAX_LENGTH: must be at least the required digits, lowercase, uppercase and special characters together (11), or no password could meet the policy',
    ]);
    expect(problemsOf({ ...production, GATEHOUSE_PASSWORD_HISTORY: '25', GATEHOUSE_PASSWORD_NOT_USERNAME: 'maybe' }).map((p) => p.split(':')[0])).to.have.members(['GATEHOUSE_PASSWORD_HISTORY', 'GATEHOUSE_PASSWORD_NOT_USERNAME']);
  });

  it('refuses a maximum lockout shorter than the first one', () => {
    expect(problemsOf({ ...production, GATEHOUSE_LOCKOUT_SECONDS: '600', GATEHOUSE_LOCKOUT_MAX_SECONDS: '60' })).to.deep.equal([
      'GATEHOUSE_LOCKOUT_MAX_SECONDS: must be at least GATEHOUSE_LOCKOUT_SECONDS',
    ]);
  });
});

describe('connection timeouts', () => {
  it('default to what suits a proxy in front: keep-alive 65 s, headers 20 s, whole request 30 s', () => {
    expect(loadConfig({ env: production, readFile }).connections).to.deep.equal({ keepAliveTimeoutMs: 65_000, headersTimeoutMs: 20_000, requestTimeoutMs: 30_000 });
  });

  it('are settings, and a headers timeout longer than the request timeout is refused by name', () => {
    const config = loadConfig({ env: { ...production, GATEHOUSE_KEEP_ALIVE_TIMEOUT: '120', GATEHOUSE_HEADERS_TIMEOUT: '5', GATEHOUSE_REQUEST_TIMEOUT: '10' }, readFile });
    expect(config.connections).to.deep.equal({ keepAliveTimeoutMs: 120_000, headersTimeoutMs: 5_000, requestTimeoutMs: 10_000 });
    expect(problemsOf({ ...production, GATEHOUSE_HEADERS_TIMEOUT: '40', GATEHOUSE_REQUEST_TIMEOUT: '30' })[0]).to.match(/^GATEHOUSE_HEADERS_TIMEOUT: /);
    expect(problemsOf({ ...production, GATEHOUSE_KEEP_ALIVE_TIMEOUT: '0' })[0]).to.match(/^GATEHOUSE_KEEP_ALIVE_TIMEOUT: /);
  });
});

describe('startup with a bad configuration (real process)', function () {
  // Each test starts src/main.ts as a process of its own (runMain, whose backstop is 90 s): it
  // loads the server's modules before it refuses, seconds of waiting on a loaded machine.
  this.timeout(120_000);
  const base = { NODE_ENV: 'production', GATEHOUSE_SECRET: SECRET, GATEHOUSE_ISSUER: 'https://sso.example.com', MONGODB_URI: 'mongodb://127.0.0.1:1/x' };
  const cases: Array<[string, Record<string, string>, string]> = [
    ['a missing MONGODB_URI in production', { ...base, MONGODB_URI: '' }, 'MONGODB_URI'],
    ['a malformed issuer URL', { ...base, GATEHOUSE_ISSUER: 'sso.example.com' }, 'GATEHOUSE_ISSUER'],
    ['a short GATEHOUSE_SECRET', { ...base, GATEHOUSE_SECRET: 'too-short' }, 'GATEHOUSE_SECRET'],
    ['an unknown log level', { ...base, GATEHOUSE_LOG_LEVEL: 'verbose' }, 'GATEHOUSE_LOG_LEVEL'],
    // A rule of the runtime settings, not of the configuration's schema (src/settings/configured-check.ts).
    ['a default role with two spaces in a row', { ...base, GATEHOUSE_DEFAULT_ROLES: 'viewer, Order  Manager' }, 'GATEHOUSE_DEFAULT_ROLES'],
  ];
  for (const [title, env, setting] of cases) {
    it(`exits 78 naming the setting for ${title}`, async () => {
      const exit = await runMain(env);
      expect(exit.code).to.equal(78);
      const lines = exit.stderr.trim().split('\n');
      expect(lines).to.have.length.greaterThan(0);
      expect(lines.some((line) => line.startsWith(`gatehouse: ${setting}:`)), exit.stderr).to.equal(true);
      expect(exit.stderr).not.to.match(/\n\s+at /);
      expect(exit.stderr).not.to.include(SECRET);
    });
  }

  it("says a bad setting's value escaped, quoted and cut, as the CLI does", async () => {
    const exit = await runMain({ ...base, GATEHOUSE_CONFIG: `/nowhere/\x1b]0;owned\x07${'y'.repeat(300)}` });
    expect(exit.code).to.equal(78);
    expect(exit.stderr).to.equal(`gatehouse: GATEHOUSE_CONFIG: file '/nowhere/\\x1b]0;owned\\x07${'y'.repeat(41)}…' (319 characters) cannot be read\n`);
  });

  it('reads NAME_FILE settings from real files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
    writeFileSync(join(dir, 'secret'), 'short\n');
    const exit = await runMain({ ...base, GATEHOUSE_SECRET: '', GATEHOUSE_SECRET_FILE: join(dir, 'secret') });
    expect(exit.code).to.equal(78);
    expect(exit.stderr).to.include('gatehouse: GATEHOUSE_SECRET: must be at least 32 characters');
  });
});
