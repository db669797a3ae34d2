/**
 * A client's URI as a page may link to it (an app's home page, "Back to <app>"): only an absolute
 * http(s) URL; anything else (`javascript:`, `data:`, a relative path) is no link at all. The admin
 * API, the CLI and the Keycloak import take only http(s) there, but a client's metadata may come
 * from elsewhere (an imported export file holds it as it is, an older version stored it).
 */
export function webLink(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const url = URL.parse(value);
  return url !== null && (url.protocol === 'https:' || url.protocol === 'http:') ? value : undefined;
}
