import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

const SECRET_VALUE = 'S3cr3t-Value-probe25-qwertyuiop';

/**
 * Probe (probe25): round 24's warning for a variable that is close to a setting but is none names
 * the variable and the setting it resembles — never its value, though a misspelled secret's value is
 * a secret (`GATEHOUSE_SECRT`, `MONGO_URL` with a password, `GATEHOUSE_ADMIN_PASWORD`). The same for
 * a misspelled key in the GATEHOUSE_CONFIG file, and for a secret setting whose value is refused: the
 * lines go to the startup log and the CLI's standard error as they are.
 */
describe('probe: misspelled and refused settings never echo a secret value', () => {
  const production = { GATEHOUSE_ISSUER: 'https://sso.example.com', MONGODB_URI: 'mongodb://db.example.com/gatehouse', GATEHOUSE_SECRET: 'x'.repeat(40) };
  const lines = (env: Record<string, string>, files: Record<string, string> = {}): string[] => {
    const readFile = (path: string) => {
      const content = files[path];
      if (content === undefined) throw new Error(`ENOENT: ${path}`);
      return content;
    };
    try {
      return [...loadConfig({ env, readFile }).notices];
    } catch (error) {
      if (error instanceof ConfigError) return [...error.problems, error.message];
      throw error;
    }
  };

  it('a variable near a secret setting is named with the setting it resembles, its value left out', () => {
    const misspelled = {
      GATEHOUSE_SECRT: SECRET_VALUE,
      GATEHOUSE_SECRET_FIEL: `/run/secrets/${SECRET_VALUE}`,
      GATEHOUSE_ADMIN_PASWORD: SECRET_VALUE,
      MONGO_URL: `mongodb://gatehouse:${SECRET_VALUE}@db.example.com/gatehouse`,
      REDIS_URI: `redis://:${SECRET_VALUE}@cache.example.com:6379`,
      GATEHOUSE_SMTP_URI: `smtps://mailer:${SECRET_VALUE}@smtp.example.com`,
      GATEHOUSE_METRICS_TOKN: SECRET_VALUE,
    };
    const said = lines({ ...production, ...misspelled });
    expect(said).to.have.length(Object.keys(misspelled).length);
    for (const name of Object.keys(misspelled)) expect(said.some((line) => line.startsWith(`${name}: not a setting, ignored (did you mean `)), name).to.equal(true);
    expect(said.join('\n')).not.to.include(SECRET_VALUE);
  });

  it('a misspelled key in the GATEHOUSE_CONFIG file, or a secret setting refused, is named without its value', () => {
    const file = JSON.stringify({ GATEHOUSE_SECRT: SECRET_VALUE, GATEHOUSE_ADMIN_PASWORD: SECRET_VALUE });
    const fromFile = lines({ ...production, GATEHOUSE_CONFIG: '/etc/gatehouse.json' }, { '/etc/gatehouse.json': file });
    expect(fromFile.join('\n')).to.include('GATEHOUSE_SECRT').and.include('GATEHOUSE_ADMIN_PASWORD');
    expect(fromFile.join('\n')).not.to.include(SECRET_VALUE);

    const refusals: Array<Record<string, string>> = [
      { GATEHOUSE_SECRET: SECRET_VALUE.slice(0, 20) },
      { MONGODB_URI: `mongdb://gatehouse:${SECRET_VALUE}@db.example.com/gatehouse` },
      { REDIS_URL: `rediss//:${SECRET_VALUE}@cache.example.com` },
      { GATEHOUSE_SMTP_URL: `ftp://mailer:${SECRET_VALUE}@smtp.example.com` },
      { GATEHOUSE_METRICS_TOKEN: SECRET_VALUE.slice(0, 6) },
      { GATEHOUSE_ADMIN_USERNAME: 'admin', GATEHOUSE_ADMIN_PASSWORD: SECRET_VALUE.slice(0, 4) },
    ];
    for (const refused of refusals) {
      const said = lines({ ...production, ...refused }).join('\n');
      const name = Object.keys(refused).at(-1)!;
      expect(said, name).to.include(name);
      expect(said, name).not.to.include(Object.values(refused).at(-1)!);
    }
  });
});
