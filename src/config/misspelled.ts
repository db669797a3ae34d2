import { typed } from '../errors/shown-text.ts';
import { SECRET_SETTINGS, SETTING_NAMES } from './schema.ts';
import { editDistance as distance } from '../edit-distance.ts';

/**
 * Environment variables that look like a setting but are none: `GATEHOUSE_TRUST_PROXIES=true`
 * is ignored, so the proxy is not trusted and every user shares the proxy's address for rate
 * limits and lockouts — with nothing said. Each such variable close to a real name gets one line
 * naming both (logged as a warning at startup). Only near misses: other GATEHOUSE_* variables
 * (the scripts' own, such as GATEHOUSE_SERVICES_DIR) are not Gatehouse's business.
 */

/** Every name Gatehouse reads: the settings, NAME_FILE for secrets, GATEHOUSE_CONFIG. */
const KNOWN: readonly string[] = [...SETTING_NAMES, ...SECRET_SETTINGS.map((name) => `${name}_FILE`), 'GATEHOUSE_CONFIG'];
const KNOWN_SET: ReadonlySet<string> = new Set(KNOWN);
/** Where a setting's name is mistyped: its own families (MONGO_URL for MONGODB_URI, REDIS_URI). */
const LOOKS_LIKE_A_SETTING = /^(GATEHOUSE_|MONGO|REDIS_)/;


/** The setting `name` was probably meant to be, if one is close: a few letters off, or one name extending the other. */
function meant(name: string): string | undefined {
  const word = name.replace(/^GATEHOUSE_/, '');
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of KNOWN) {
    const stem = candidate.replace(/^GATEHOUSE_/, '');
    const extends_ = word.length >= 6 && stem.length >= 6 && (word.startsWith(stem) || stem.startsWith(word));
    const score = extends_ ? 1 : distance(word, stem);
    if (best === undefined || score < best.score) best = { candidate, score };
  }
  return best !== undefined && best.score <= (word.length >= 8 ? Math.max(3, Math.floor(word.length / 4)) : 2) ? best.candidate : undefined;
}

/** One line per variable that is no setting but close to one, e.g. `GATEHOUSE_TRUST_PROXIES: not a setting, ignored (did you mean GATEHOUSE_TRUST_PROXY?)`. */
export function misspelledSettings(env: Readonly<Record<string, string | undefined>>): string[] {
  const lines: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (KNOWN_SET.has(name) || !LOOKS_LIKE_A_SETTING.test(name)) continue;
    const suggestion = meant(name);
    if (suggestion !== undefined) lines.push(`${typed(name, { quote: false })}: not a setting, ignored (did you mean ${suggestion}?)`);
  }
  return lines;
}
