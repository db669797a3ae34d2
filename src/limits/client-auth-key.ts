import { decodeJwt } from 'jose';
import { ipKey } from '../accounts/ip-key.ts';
import { lastResults } from '../cache/last-results.ts';

type Params = Readonly<Record<string, unknown>> | undefined;

const keyPart = (client: string | undefined) => (client === undefined ? '-' : encodeURIComponent(client));

/** Not an HTTP Basic header: the client is looked for in the body. */
const NOT_BASIC = null;

const COLON = 0x3a;

/** Whether a character code is one of base64's (`A-Z a-z 0-9 + / =`). */
const isBase64 = (code: number) => (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 43 || code === 47 || code === 61;
/** The whitespace `\s` matches in a header's Latin-1 (tab, line breaks, form feed, space, no-break space). */
const isSpace = (code: number) => code === 32 || (code >= 9 && code <= 13) || code === 160;

/**
 * The client an HTTP Basic header names, as the key's first part (URL-encoded; '-' when the
 * header is Basic but its user does not decode), or NOT_BASIC. Decoded on every request and
 * nothing remembered: the header carries the client's secret, which must not outlive the
 * request (earlier, the last 1,024 headers were kept as a memo's keys). Read without a regular
 * expression, whose last subject V8 keeps (RegExp.input) until the next match, and the secret
 * is never made a string: only the bytes before the colon are.
 */
function basicClientPart(authorization: string): string | typeof NOT_BASIC {
  // /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i, by hand.
  if (authorization.length < 7 || authorization.slice(0, 5).toLowerCase() !== 'basic' || !isSpace(authorization.charCodeAt(5))) return NOT_BASIC;
  let start = 6;
  while (start < authorization.length && isSpace(authorization.charCodeAt(start))) start += 1;
  let end = start;
  while (end < authorization.length && isBase64(authorization.charCodeAt(end))) end += 1;
  if (end === start) return NOT_BASIC;
  for (let rest = end; rest < authorization.length; rest += 1) if (!isSpace(authorization.charCodeAt(rest))) return NOT_BASIC;
  const decoded = Buffer.from(authorization.slice(start, end), 'base64');
  const colon = decoded.indexOf(COLON);
  const user = decoded.toString('utf8', 0, colon === -1 ? decoded.length : colon);
  decoded.fill(0);
  try {
    return keyPart(decodeURIComponent(user));
  } catch {
    return keyPart(undefined);
  }
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
