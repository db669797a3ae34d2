import { first, isObject, text, type Json } from './export-json.ts';

/** What a Keycloak credential field (a JSON string, or an object) holds, or why it holds nothing usable. */
function field(credential: Json, name: 'secretData' | 'credentialData'): Json | string {
  const value = credential[name];
  if (value === undefined || value === null || value === '') return `its ${name} is missing`;
  if (isObject(value)) return value;
  if (typeof value !== 'string') return `its ${name} is not a JSON object`;
  try {
    const parsed = JSON.parse(value) as unknown;
    return isObject(parsed) ? parsed : `its ${name} is not a JSON object`;
  } catch {
    return `its ${name} is not valid JSON`;
  }
}

const positiveInteger = (value: unknown) => Number.isInteger(Number(value)) && Number(value) >= 1;

/** Whether argon2's additionalParameters are ones keycloakPasswordHash can write as a PHC string (absent ones take Keycloak's defaults). */
function argon2Usable(data: Json): boolean {
  const extra = isObject(data.additionalParameters) ? data.additionalParameters : {};
  return ['id', 'i', 'd'].includes(first(extra.type) ?? 'id') && Number.isInteger(Number(first(extra.memory) ?? 7168)) && Number.isInteger(Number(first(extra.parallelism) ?? 1));
}

/**
 * The import report's line for a Keycloak password credential that keycloakPasswordHash
 * (src/keycloak/map-password.ts) could not keep: what is wrong with it — an algorithm Gatehouse
 * has no verifier for, or a credential that is broken (before: "password hashed with undefined"
 * for a credentialData that was not JSON).
 */
export function unusablePasswordNote(credential: Json): string {
  const data = field(credential, 'credentialData');
  const secret = field(credential, 'secretData');
  const algorithm = typeof data === 'string' ? undefined : (text(data.algorithm) ?? 'pbkdf2-sha256');
  const known = algorithm === undefined || ['argon2', 'pbkdf2-sha256', 'pbkdf2-sha512', 'pbkdf2'].includes(algorithm);
  const problems: string[] = [];
  if (!known) problems.push(`it is hashed with ${algorithm}, which Gatehouse has no verifier for`);
  if (typeof data === 'string') problems.push(data);
  else if (known && !positiveInteger(data.hashIterations)) problems.push('its credentialData has no valid hashIterations');
  else if (algorithm === 'argon2' && !argon2Usable(data)) problems.push('its credentialData has argon2 parameters Gatehouse cannot use');
  if (typeof secret === 'string') problems.push(secret);
  else if (text(secret.value) === undefined || text(secret.salt) === undefined) problems.push('its secretData has no hash value or no salt');
  return `password not imported: ${problems.join('; ')}; the user must reset the password`;
}
