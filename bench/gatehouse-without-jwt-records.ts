/**
 * The production build (dist/) started exactly as dist/main.js starts it, except that JWT access
 * tokens are not recorded for introspection (formats.customizers.jwt removed). Used only to
 * measure what that recording costs on client_credentials; introspection of JWTs does not work
 * on this variant. Reads the same environment as dist/main.js.
 */
import { pathToFileURL } from 'node:url';

const dist = (name: string) => pathToFileURL(new URL(`../dist/${name}`, import.meta.url).pathname).href;
const { loadConfig } = (await import(dist('config/load.js'))) as typeof import('../src/config/load.ts');
const { createLogger } = (await import(dist('observability/logger.js'))) as typeof import('../src/observability/logger.ts');
const { startGatehouse } = (await import(dist('server.js'))) as typeof import('../src/server.ts');

const config = loadConfig({ env: process.env, readFile: () => '' });
const running = await startGatehouse(config, createLogger(config.logLevel), {
  extendConfiguration: (configuration) => ({ ...configuration, formats: {} }),
});
process.once('SIGTERM', () => void running.close().then(() => process.exit(0)));
