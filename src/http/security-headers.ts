/** Baseline headers for every response Gatehouse renders itself, as [name, value] pairs (set by src/http/edge.ts). */
export function securityHeaderList({ https }: { https: boolean }): ReadonlyArray<readonly [string, string]> {
  return [
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'no-referrer'],
    ['X-Frame-Options', 'DENY'],
    ...(https ? [['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'] as const] : []),
  ];
}
