import { createLogger, type Logger } from '../../src/observability/logger.ts';
import { startGatehouse, type RunningGatehouse, type StartOptions } from '../../src/server.ts';
import { testConfig } from './config.ts';

export interface InstanceOptions {
  readonly mongodbUri: string;
  readonly redisUrl?: string | undefined;
  readonly secret: string;
  readonly issuer?: string;
  readonly settings?: Record<string, string>;
  /** Extra provider configuration (e.g. test clients), applied to every Provider the instance builds. */
  readonly extendConfiguration?: StartOptions['extendConfiguration'];
  /** Sign-in steps registered after Gatehouse's own (StartOptions.extraSteps). */
  readonly extraSteps?: StartOptions['extraSteps'];
  /** The second-factor clock (StartOptions.secondFactorClock). */
  readonly secondFactorClock?: StartOptions['secondFactorClock'];
  /** Defaults to a silent logger; pass one writing to a capture stream to read the logs. */
  readonly logger?: Logger;
  /** Gatehouse's clock (StartOptions.clock), for tests that move time (test/helpers/clock.ts). */
  readonly clock?: StartOptions['clock'];
  /** Stands in for the stores' own clock (StartOptions.storeClock): one for every instance on the stores. */
  readonly storeClock?: StartOptions['storeClock'];
  /** Hears every command the instance's MongoDB and Redis connections send. */
  readonly onStoreCommand?: StartOptions['onStoreCommand'];
  /** Where the browser apps' modules are read and compiled (StartOptions.browserModules). */
  readonly browserModules?: StartOptions['browserModules'];
}

/** A real Gatehouse on an ephemeral loopback port, wired exactly as src/main.ts wires it. */
export function startInstance(options: InstanceOptions): Promise<RunningGatehouse> {
  const config = testConfig({
    MONGODB_URI: options.mongodbUri,
    REDIS_URL: options.redisUrl,
    GATEHOUSE_SECRET: options.secret,
    GATEHOUSE_ISSUER: options.issuer ?? 'http://localhost:3000',
    ...options.settings,
  });
  return startGatehouse(config, options.logger ?? createLogger('silent'), {
    ...(options.extendConfiguration === undefined ? {} : { extendConfiguration: options.extendConfiguration }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.storeClock === undefined ? {} : { storeClock: options.storeClock }),
    ...(options.onStoreCommand === undefined ? {} : { onStoreCommand: options.onStoreCommand }),
    ...(options.extraSteps === undefined ? {} : { extraSteps: options.extraSteps }),
    ...(options.secondFactorClock === undefined ? {} : { secondFactorClock: options.secondFactorClock }),
    ...(options.browserModules === undefined ? {} : { browserModules: options.browserModules }),
  });
}
