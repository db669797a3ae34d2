import { typed } from '../errors/shown-text.ts';
import { SECRET_SETTINGS, SETTING_NAMES, type SettingName } from './schema.ts';

/** Where settings come from: the process environment and files (GATEHOUSE_CONFIG, NAME_FILE secrets). */
export interface ConfigSources {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string;
}

export function present(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

function readConfigFile(path: string, sources: ConfigSources, problems: string[]): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(sources.readFile(path));
  } catch (error) {
    const reason = error instanceof SyntaxError ? 'is not valid JSON' : 'cannot be read';
    problems.push(`GATEHOUSE_CONFIG: file ${typed(path)} ${reason}`);
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`GATEHOUSE_CONFIG: file ${typed(path)} must hold a JSON object of settings`);
    return {};
  }
  const values: Record<string, string> = {};
  // The file's path and its keys are shown as input is (escaped, quoted, cut): the CLI and the server print these lines as they are.
  for (const [key, value] of Object.entries(parsed)) {
    if (!SETTING_NAMES.includes(key as SettingName)) {
      problems.push(`${typed(key, { quote: false })}: unknown setting in ${typed(path)}`);
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      values[key] = String(value);
    } else {
      problems.push(`${key}: must be a string, number or boolean in ${typed(path)}`);
    }
  }
  return values;
}

/**
 * The settings as strings, by name: environment first, then NAME_FILE for secrets, then the
 * config file. What cannot be read goes to `problems`, each starting with the setting's name.
 */
export function collectRaw(sources: ConfigSources, problems: string[]): Record<string, string> {
  const { env } = sources;
  const fromFile = present(env.GATEHOUSE_CONFIG) ? readConfigFile(env.GATEHOUSE_CONFIG, sources, problems) : {};
  const raw: Record<string, string> = {};
  for (const name of SETTING_NAMES) {
    const direct = env[name];
    const filePath = SECRET_SETTINGS.includes(name) ? env[`${name}_FILE`] : undefined;
    if (present(direct) && present(filePath)) {
      problems.push(`${name}: set either ${name} or ${name}_FILE, not both`);
      continue;
    }
    if (present(direct)) {
      raw[name] = direct;
    } else if (present(filePath)) {
      try {
        raw[name] = sources.readFile(filePath).replace(/\r?\n$/, '');
      } catch {
        problems.push(`${name}_FILE: cannot read ${typed(filePath)}`);
      }
    } else if (fromFile[name] !== undefined) {
      raw[name] = fromFile[name];
    }
  }
  return raw;
}
