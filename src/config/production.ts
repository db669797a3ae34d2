import type { ParsedSettings } from './schema.ts';

/**
 * Production floors: a retired key must outlive the tokens it signed (access and ID tokens
 * live one hour by default), and a new key must be visible to relying parties before it signs.
 */
export const MIN_PRODUCTION_RETENTION = 3600;
export const MIN_PRODUCTION_PUBLISH_DELAY = 60;

/**
 * What production (NODE_ENV unset or production) asks beyond the schema: settings it cannot
 * default, and the key-lifecycle floors. `settings` is undefined when the schema refused them;
 * each problem starts with the setting's name.
 */
export function productionProblems(raw: Readonly<Record<string, string>>, settings: ParsedSettings | undefined): string[] {
  const problems: string[] = [];
  if (raw.GATEHOUSE_ISSUER === undefined) problems.push('GATEHOUSE_ISSUER: is required in production');
  if (raw.MONGODB_URI === undefined) problems.push('MONGODB_URI: is required in production');
  if (settings === undefined) return problems;
  if (settings.GATEHOUSE_KEY_RETENTION < MIN_PRODUCTION_RETENTION) {
    problems.push(`GATEHOUSE_KEY_RETENTION: must be at least ${MIN_PRODUCTION_RETENTION} in production (tokens signed by a retired key must still verify)`);
  }
  if (settings.GATEHOUSE_KEY_PUBLISH_DELAY < MIN_PRODUCTION_PUBLISH_DELAY) {
    problems.push(`GATEHOUSE_KEY_PUBLISH_DELAY: must be at least ${MIN_PRODUCTION_PUBLISH_DELAY} in production (relying parties cache JWKS)`);
  }
  return problems;
}
