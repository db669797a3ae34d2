/**
 * The JSON type a user attribute's claim is given (Keycloak's mapper *Claim JSON Type*,
 * `jsonType.label`): custom attributes are texts; a mapper may give the claim as a number, a
 * boolean or the JSON the text holds. A value that does not convert is left out of the token —
 * never an error for the request (Keycloak since its 2026 fix does the same; before it, the
 * sign-in failed).
 */
export const JSON_TYPES = ['string', 'long', 'int', 'boolean', 'json'] as const;
export type JsonType = (typeof JSON_TYPES)[number];

const INTEGER = /^[+-]?\d{1,19}$/;
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/**
 * One attribute value in `type`, or undefined when it does not convert:
 * - `long`: a whole number in decimal digits (an optional sign, nothing else), within what a JSON
 *   number keeps exactly (±2^53 − 1; Keycloak's 64-bit range beyond it would be rounded);
 * - `int`: the same, within 32 bits;
 * - `boolean`: `true` or `false`, any case (Keycloak makes every other text `false`);
 * - `json`: the JSON text's value (an object, list, number, …; `null` is left out).
 */
export function convert(type: JsonType, text: string): unknown {
  switch (type) {
    case 'string':
      return text;
    case 'long':
    case 'int': {
      if (!INTEGER.test(text)) return undefined;
      const number = Number(text);
      if (!Number.isSafeInteger(number)) return undefined;
      if (type === 'int' && (number < INT_MIN || number > INT_MAX)) return undefined;
      return Object.is(number, -0) ? 0 : number;
    }
    case 'boolean': {
      const lower = text.toLowerCase();
      return lower === 'true' ? true : lower === 'false' ? false : undefined;
    }
    case 'json':
      try {
        const value: unknown = JSON.parse(text);
        return value === null ? undefined : value;
      } catch {
        return undefined;
      }
  }
}
