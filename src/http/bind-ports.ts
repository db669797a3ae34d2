import type { Config } from '../config/load.ts';
import { StartupError } from '../errors/startup-error.ts';
import { listenHeld, type HeldServer, type HoldOptions } from './held-server.ts';

/** The server's ports, bound and holding what arrives until the application is there (held-server.ts). */
export interface BoundPorts {
  readonly main: HeldServer;
  /** GATEHOUSE_METRICS_PORT's, when it is set. */
  readonly metrics: HeldServer | undefined;
  /** Gives both back (startup failed, or only checking them). */
  abandon(): Promise<void>;
}

function named(setting: string, port: number, host: string, error: unknown): unknown {
  // One line naming the setting (npm run dev stops on it: a check before the bind can race, scripts/dev).
  return (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new StartupError(setting, `${port} on ${host} is already in use (another Gatehouse or npm run dev?); choose another port`) : error;
}

/**
 * Binds PORT (and GATEHOUSE_METRICS_PORT) on HOST. A port something else listens on is a
 * StartupError naming its setting. `prepare` sees the main server before it listens; `clock`
 * times how long a request may wait for the application; `probes` are the health paths the main
 * port answers meanwhile (held-server.ts).
 */
export async function bindPorts(config: Pick<Config, 'port' | 'host' | 'connections' | 'metrics'>, { prepare, clock, probes }: Pick<HoldOptions, 'prepare' | 'clock' | 'probes'> = {}): Promise<BoundPorts> {
  const main = await listenHeld(config.port, config.host, config.connections, { prepare, clock, probes }).catch((error: unknown) => {
    throw named('PORT', config.port, config.host, error);
  });
  let metrics: HeldServer | undefined;
  if (config.metrics.port !== undefined) {
    try {
      metrics = await listenHeld(config.metrics.port, config.host, config.connections, { clock });
    } catch (error) {
      await main.abandon();
      throw named('GATEHOUSE_METRICS_PORT', config.metrics.port, config.host, error);
    }
  }
  return {
    main,
    metrics,
    abandon: async () => void (await Promise.all([main.abandon(), metrics?.abandon()])),
  };
}
