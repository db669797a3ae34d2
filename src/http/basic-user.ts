/**
 * The user of an HTTP Basic header (RFC 7617) — for a client, its id, still form-urlencoded
 * (RFC 6749 §2.3.1) — read without decoding the password: the client-auth key
 * (src/limits/client-auth-key.ts) and the previous-secret gate (src/clients/previous-secret.ts)
 * each need the client's id on every token, introspection and revocation request, and only
 * that. Read without a regular expression, whose last subject V8 keeps (RegExp.input) until the
 * next match: the header carries the secret.
 */

const COLON = 0x3a;

/** Whether a character code is one of base64's (`A-Z a-z 0-9 + / =`). */
const isBase64 = (code: number) => (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 43 || code === 47 || code === 61;
/** The whitespace `\s` matches in a header's Latin-1 (tab, line breaks, form feed, space, no-break space). */
const isSpace = (code: number) => code === 32 || (code >= 9 && code <= 13) || code === 160;

/** A base64 character's six bits (`A-Z a-z 0-9 + /`), or -1 (`=` and anything else). */
function sextet(code: number): number {
  if (code >= 65 && code <= 90) return code - 65;
  if (code >= 97 && code <= 122) return code - 71;
  if (code >= 48 && code <= 57) return code + 4;
  if (code === 43) return 62;
  if (code === 47) return 63;
  return -1;
}

/**
 * The bytes before the first colon of the base64 text `authorization[start, end)` — the Basic
 * user — decoded by hand, as `Buffer.from(text, 'base64')` would decode them (decoding stops at
 * the first `=`; a last lone character adds no byte). Nothing after the colon is decoded: the
 * secret never exists in decoded form, not even as a buffer.
 */
function userBytes(authorization: string, start: number, end: number): string {
  const bytes: number[] = [];
  let ascii = true;
  let bits = 0;
  let held = 0;
  for (let index = start; index < end; index += 1) {
    const value = sextet(authorization.charCodeAt(index));
    if (value < 0) break;
    bits = ((bits << 6) | value) & 0xffffff;
    held += 6;
    if (held < 8) continue;
    held -= 8;
    const byte = (bits >> held) & 0xff;
    if (byte === COLON) break;
    if (byte >= 0x80) ascii = false;
    bytes.push(byte);
  }
  return ascii ? String.fromCharCode(...bytes) : Buffer.from(bytes).toString('utf8');
}

/** Whether the header starts with `basic` in any case, without making a string of its first five characters. */
function startsWithBasic(authorization: string): boolean {
  const word = 'basic';
  for (let index = 0; index < 5; index += 1) if ((authorization.charCodeAt(index) | 0x20) !== word.charCodeAt(index)) return false;
  return true;
}

/**
 * The user of `authorization` when it is `Basic <base64>` (/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i,
 * by hand): the bytes before the first colon, as UTF-8; undefined for any other header.
 */
export function basicUser(authorization: string): string | undefined {
  if (authorization.length < 7 || !startsWithBasic(authorization) || !isSpace(authorization.charCodeAt(5))) return undefined;
  let start = 6;
  while (start < authorization.length && isSpace(authorization.charCodeAt(start))) start += 1;
  let end = start;
  while (end < authorization.length && isBase64(authorization.charCodeAt(end))) end += 1;
  if (end === start) return undefined;
  for (let rest = end; rest < authorization.length; rest += 1) if (!isSpace(authorization.charCodeAt(rest))) return undefined;
  return userBytes(authorization, start, end);
}
