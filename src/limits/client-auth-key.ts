import { decodeJwt } from 'jose';
import { ipKey } from '../accounts/ip-key.ts';
import { lastResults } from '../cache/last-results.ts';

type Params = Readonly<Record<string, unknown>> | undefined;

const keyPart = (client: string | undefined) => (client === undefined ? '-' : encodeURIComponent(client));

/** Not an HTTP Basic header: the client is looked for in the body. */
const NOT_BASIC = null;

/**
 * The client an HTTP Basic header names, as the key's first part (URL-encoded; '-' when the
 * header is Basic but its user does not decode), or NOT_BASIC. A client sends the same header
 * on every request: the decoding is remembered for the last headers seen (only the header's own
 * text goes in: nothing is verified here, and the answer depends on nothing else).
 */
const basicClientPart = lastResults(
  (authorization: string): string | typeof NOT_BASIC => {
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
    if (basic?.[1] === undefined) return NOT_BASIC;
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const user = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : decoded;
    try {
      return keyPart(decodeURIComponent(user));
    } catch {
      return keyPart(undefined);
    }
  },
  { entries: 1024, maxLength: 512 },
);

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
