import { decodeJwt } from 'jose';
import { ipKey } from '../accounts/ip-key.ts';
import { lastResults } from '../cache/last-results.ts';
import { keyComponent } from '../storage/key-component.ts';
import { basicUser } from '../http/basic-user.ts';

type Params = Readonly<Record<string, unknown>> | undefined;

const keyPart = (client: string | undefined) => (client === undefined ? '-' : keyComponent(client));

/** Not an HTTP Basic header: the client is looked for in the body. */
const NOT_BASIC = null;

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
 * request (earlier, the last 1,024 headers were kept as a memo's keys). Only the user is
 * decoded (src/http/basic-user.ts): the secret is never made a string or a buffer.
 */
function basicClientPart(authorization: string): string | typeof NOT_BASIC {
  const user = basicUser(authorization);
  return user === undefined ? NOT_BASIC : headerKeyPart(user);
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
