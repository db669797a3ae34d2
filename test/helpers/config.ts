import { readFileSync } from 'node:fs';
import { loadConfig, type Config } from '../../src/config/load.ts';

/** A validated Config as the server would load it, from environment-style settings. */
export function testConfig(settings: Record<string, string | undefined>): Config {
  return loadConfig({
    env: { NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', GATEHOUSE_LOG_LEVEL: 'silent', ...settings },
    readFile: (path) => readFileSync(path, 'utf8'),
  });
}
