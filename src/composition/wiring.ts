import type { Configuration } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { BrowserModules } from '../browser-app/modules.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/load.ts';
import type { SignInStep } from '../interactions/steps/step.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { StoreCommandListener } from '../storage/command-watch.ts';
import type { Core } from './core.ts';

export interface StartOptions {
  /** Adds to every Provider's configuration (tests register clients this way). */
  readonly extendConfiguration?: (configuration: Configuration) => Configuration;
  /**
   * Gatehouse's clock (src/clock.ts): record expiry and the reuse window, caches, key activation
   * and removal, lockouts, attempt limits, reset tokens. Tests move it instead of sleeping.
   */
  readonly clock?: Clock;
  /** Hears every command the main MongoDB and Redis connections send (tests count round trips with it). */
  readonly onStoreCommand?: StoreCommandListener;
  /** Sign-in steps added after Gatehouse's own (before consent); a test registers one this way. */
  readonly extraSteps?: readonly SignInStep[];
  /** The clock of the second-factor checks (TOTP steps); tests move it. */
  readonly secondFactorClock?: () => Date;
  /**
   * Stands in for the stores' own clock where instances must agree on time (device-code polls,
   * src/limits/device-polls.ts): tests move it, and give every instance on the stores the same one.
   * It is then the instance's stopwatch too (Wiring.stopwatch): time passes for both alike, so a
   * request the test holds up while it moves this clock has waited that long.
   */
  readonly storeClock?: () => number;
  /** What /metrics serves instead of this instance's registry (a GATEHOUSE_WORKERS worker: the whole instance's). */
  readonly scrapeMetrics?: () => Promise<string>;
  /** Where the console's and the account page's browser modules are read and compiled (tests count compiles); the process's by default. */
  readonly browserModules?: BrowserModules;
}

/**
 * What every feature's composition module gets from startGatehouse: the settings, the domain
 * (composeCore), the instance's metrics and clock, and a way to be stopped on close().
 */
export interface Wiring {
  readonly config: Config;
  readonly logger: Logger;
  readonly options: StartOptions;
  readonly clock: Clock;
  /**
   * How long something took on this instance (milliseconds, never jumps; only differences mean
   * anything): `performance.now()` (src/clock.ts monotonicNow), or StartOptions.storeClock when a
   * test moves the stores' time. Each request's arrival is noted on it (src/http/edge.ts).
   */
  readonly stopwatch: () => number;
  readonly core: Core;
  readonly metrics: Metrics;
  /** GATEHOUSE_SECRET, revealed once (keys for cookies, challenges and record ids derive from it). */
  readonly secret: string;
  /** Whether the issuer is served over HTTPS (Secure cookies, POST /auth). */
  readonly https: boolean;
  /** The origin of the issuer (the console's and the account page's URLs). */
  readonly issuerOrigin: string;
  /** The origin of links in emails and upstream redirects (GATEHOUSE_PUBLIC_URL). */
  readonly publicOrigin: string;
  /** The Provider serving right now (the key ring's; only called once the ring has started). */
  readonly provider: () => Provider;
  /** Registers a stop step for close(); they run in reverse order of registration. */
  readonly onClose: (stop: () => Promise<void>) => void;
}

/** Stop steps run last-registered first; each runs once. */
export function closeList() {
  const steps: Array<() => Promise<void>> = [];
  return {
    add: (stop: () => Promise<void>) => void steps.push(stop),
    /** Runs every step; with `quiet`, a failing step does not stop the others (startup failed). */
    async run(quiet = false): Promise<void> {
      for (const stop of steps.splice(0).reverse()) {
        if (quiet) await stop().catch(() => {});
        else await stop();
      }
    },
  };
}
