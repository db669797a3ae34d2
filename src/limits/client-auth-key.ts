import { decodeJwt } from 'jose';
import { ipKey } from '../accounts/ip-key.ts';
import { lastResults } from '../cache/last-results.ts';
import { keyComponent } from '../storage/key-component.ts';

type Params = Readonly<Record<string, unknown>> | undefined;

const keyPart = (client: string | undefined) => (client === undefined ? '-' : keyComponent(client));

/** Not an HTTP Basic header: the client is looked for in the body. */
const NOT_BASIC = null;

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
function basicUser(authorization: string, start: number, end: number): string {
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

/** Characters encodeURIComponent leaves as they are. */
const isUnreserved = (code: number) => (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 45 || code === 95 || code === 46 || code === 33 || code === 126 || code === 42 || code === 39 || code === 40 || code === 41;

/**
 * keyPart of a client id read from the header: most ids need no encoding, and no new string. The
 * user is form-urlencoded (RFC 6749 §2.3.1) and read as the library reads it (`+` a space), so
 * "a+b", "a%20b" and a body's "a b" are one client's key.
 */
function headerKeyPart(user: string): string {
  let client = user;
  if (user.includes('%') || user.includes('+')) {
    try {
      client = decodeURIComponent(user.replaceAll('+', '%20'));
    } catch {
      return keyPart(undefined);
    }
  }
  for (let index = 0; index < client.length; index += 1) if (!isUnreserved(client.charCodeAt(index))) return keyPart(client);
  return client;
}

/**
 * The client an HTTP Basic header names, as the key's first part (URL-encoded; '-' when the
 * header is Basic but its user does not decode), or NOT_BASIC. Decoded on every request and
 * nothing remembered: the header carries the client's secret, which must not outlive the
 * request (earlier, the last 1,024 headers were kept as a memo's keys). Read without a regular
 * expression, whose last subject V8 keeps (RegExp.input) until the next match, and only the
 * user is decoded (basicUser): the secret is never made a string or a buffer.
 */
function basicClientPart(authorization: string): string | typeof NOT_BASIC {
  // /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i, by hand.
  if (authorization.length < 7 || !startsWithBasic(authorization) || !isSpace(authorization.charCodeAt(5))) return NOT_BASIC;
  let start = 6;
  while (start < authorization.length && isSpace(authorization.charCodeAt(start))) start += 1;
  let end = start;
  while (end < authorization.length && isBase64(authorization.charCodeAt(end))) end += 1;
  if (end === start) return NOT_BASIC;
  for (let rest = end; rest < authorization.length; rest += 1) if (!isSpace(authorization.charCodeAt(rest))) return NOT_BASIC;
  return headerKeyPart(basicUser(authorization, start, end));
}

/** Whether the header starts with `basic` in any case, without making a string of its first five characters. */
function startsWithBasic(authorization: string): boolean {
  const word = 'basic';
  for (let index = 0; index < 5; index += 1) if ((authorization.charCodeAt(index) | 0x20) !== word.charCodeAt(index)) return false;
  return true;
}

/** The address part of the key: the same few addresses come again and again (ipKey parses IPv6). */
const addressPart = lastResults(ipKey, { entries: 1024, maxLength: 64 });

/** The client a body names, read without verifying anything: `client_id`, or the assertion's subject. */
function bodyClient(params: Params): string | undefined {
  if (typeof params?.client_id === 'string') return params.client_id;
  if (typeof params?.client_assertion === 'string') {
    try {
      const { sub } = decodeJwt(params.client_assertion);
      return typeof sub === 'string' ? sub : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The key a failed client authentication is charged to: (client, IP), whether the client
 * authenticates with HTTP Basic or in the body (client_secret_post, private_key_jwt, public
 * clients' client_id). Failures of one client from a shared address (everyone behind a NAT) do
 * not block the others. A request that names no client is charged to the IP alone. The client
 * is the one the request claims to be (Basic user, else `client_id`, else the assertion's
 * subject), read without verifying anything.
 */
export function clientAuthKey(authorization: string | undefined, params: Params, ip: string): string {
  const fromHeader = authorization === undefined ? NOT_BASIC : basicClientPart(authorization);
  return `${fromHeader ?? keyPart(bodyClient(params))}@${addressPart(ip)}`;
}

/** Whether the client is named in a header, so the body need not be read to key the request. */
export function namesClientInHeader(authorization: string | undefined): boolean {
  return /^Basic\s/i.test(authorization ?? '');
}
