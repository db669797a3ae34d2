/**
 * The production build (dist/) started exactly as dist/main.js starts it, except that
 * client_credentials JWTs are also written to storage when issued — the record-at-issuance
 * shape (a) of docs/ARCHITECTURE.md that Gatehouse used before it derived those records at
 * introspection (src/oidc/jwt-records.ts). Used only to price that write on scenario (a); the
 * extra records are never read. Reads the same environment as dist/main.js.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { Configuration } from 'oidc-provider';

const dist = (name: string) => pathToFileURL(new URL(`../dist/${name}`, import.meta.url).pathname).href;
const { loadConfig } = (await import(dist('config/load.js'))) as typeof import('../src/config/load.ts');
const { createLogger } = (await import(dist('observability/logger.js'))) as typeof import('../src/observability/logger.ts');
const { startGatehouse } = (await import(dist('server.js'))) as typeof import('../src/server.ts');

type Customizer = NonNullable<NonNullable<NonNullable<Configuration['formats']>['customizers']>['jwt']>;
interface StoredToken {
  readonly kind: string;
  readonly constructor: { readonly IN_PAYLOAD: readonly string[]; readonly adapter: { upsert(id: string, payload: object, expiresIn: number): Promise<unknown> } };
}
const key = randomBytes(32);

const config = loadConfig({ env: process.env, readFile: () => '' });
const running = await startGatehouse(config, createLogger(config.logLevel), {
  extendConfiguration: (configuration) => {
    const original = configuration.formats?.customizers?.jwt as Customizer;
    const recording: Customizer = async (ctx, token, jwt) => {
      await original(ctx, token, jwt);
      const model = token as unknown as StoredToken & Record<string, unknown>;
      if (model.kind !== 'ClientCredentials') return;
      const { jti, exp, iat } = jwt.payload as { jti: string; exp: number; iat: number };
      const payload: Record<string, unknown> = {};
      for (const name of model.constructor.IN_PAYLOAD) if (model[name] !== undefined) payload[name] = model[name];
      const id = createHmac('sha256', key).update(jti).digest('base64url');
      await model.constructor.adapter.upsert(id, { ...payload, jti: id, kind: model.kind, iat, exp }, Math.max(1, exp - Math.floor(Date.now() / 1000)));
    };
    return { ...configuration, formats: { ...configuration.formats, customizers: { jwt: recording } } };
  },
});
process.once('SIGTERM', () => void running.close().then(() => process.exit(0)));
