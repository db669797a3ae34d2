/**
 * Where /metrics is served. In production it is never public by default: only on its own port
 * (GATEHOUSE_METRICS_PORT, like Keycloak's management port) or on the main port behind a bearer
 * token (GATEHOUSE_METRICS_TOKEN). Development and test serve it openly on the main port.
 */
export type MetricsExposure =
  | { readonly on: 'metrics-port'; readonly token: boolean }
  | { readonly on: 'main-port'; readonly token: boolean }
  | { readonly on: 'nowhere' };

export function metricsExposure(settings: { env: string; port: number | undefined; token: boolean }): MetricsExposure {
  if (settings.port !== undefined) return { on: 'metrics-port', token: settings.token };
  if (settings.token || settings.env !== 'production') return { on: 'main-port', token: settings.token };
  return { on: 'nowhere' };
}

/** One phrase for the startup log, e.g. `http://127.0.0.1:9464/metrics`. */
export function describeMetrics(exposure: MetricsExposure, urls: { main: string; metrics: string | undefined }, path = '/metrics'): string {
  if (exposure.on === 'nowhere') return 'not served (set GATEHOUSE_METRICS_PORT or GATEHOUSE_METRICS_TOKEN)';
  const url = `${exposure.on === 'metrics-port' ? urls.metrics : urls.main}${path}`;
  return exposure.token ? `${url} (Authorization: Bearer GATEHOUSE_METRICS_TOKEN)` : url;
}
