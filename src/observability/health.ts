import Router from '@koa/router';

export type ReadinessCheck = () => Promise<void>;

export interface HealthDeps {
  /** Component name → check that resolves when the component is reachable. */
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
  readonly timeoutMs: number;
  /** Paths from the routes table. */
  readonly paths?: { readonly healthz: string; readonly readyz: string };
}

function withTimeout(check: ReadinessCheck, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([check(), timeout]).finally(() => clearTimeout(timer));
}

export interface ReadinessReport {
  readonly ok: boolean;
  /** Component name → ok or unavailable. */
  readonly checks: Record<string, 'ok' | 'unavailable'>;
  readonly failing: string[];
}

/** Runs every check at once, each bounded by the timeout (/readyz and the admin API's health). */
export async function readinessReport(checks: Readonly<Record<string, ReadinessCheck>>, timeoutMs: number): Promise<ReadinessReport> {
  const entries = Object.entries(checks);
  const results = await Promise.allSettled(entries.map(([, check]) => withTimeout(check, timeoutMs)));
  const report: Record<string, 'ok' | 'unavailable'> = {};
  const failing: string[] = [];
  entries.forEach(([name], i) => {
    const ok = results[i]?.status === 'fulfilled';
    report[name] = ok ? 'ok' : 'unavailable';
    if (!ok) failing.push(name);
  });
  return { ok: failing.length === 0, checks: report, failing };
}

/** /healthz: the process is alive. /readyz: every storage component answers. */
export function healthRoutes({ checks, timeoutMs, paths = { healthz: '/healthz', readyz: '/readyz' } }: HealthDeps): Router {
  const router = new Router();
  router.get(paths.healthz, (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get(paths.readyz, async (ctx) => {
    const { checks: report, failing } = await readinessReport(checks, timeoutMs);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = failing.length === 0 ? 200 : 503;
    ctx.body = failing.length === 0 ? { status: 'ok', checks: report } : { status: 'unavailable', failing, checks: report };
  });
  return router;
}
