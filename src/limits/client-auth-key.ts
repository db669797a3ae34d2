import { decodeJwt } from 'jose';
import { ipKey } from '../accounts/ip-key.ts';

type Params = Readonly<Record<string, unknown>> | undefined;

/** The client a request claims to be, read without verifying anything: Basic user, `client_id`, or the assertion's subject. */
function claimedClient(authorization: string | undefined, params: Params): string | undefined {
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (basic?.[1] !== undefined) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const user = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : decoded;
    try {
      return decodeURIComponent(user);
    } catch {
      return undefined;
    }
  }
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
 * not block the others. A request that names no client is charged to the IP alone.
 */
export function clientAuthKey(authorization: string | undefined, params: Params, ip: string): string {
  const client = claimedClient(authorization, params);
  return `${client === undefined ? '-' : encodeURIComponent(client)}@${ipKey(ip)}`;
}

/** Whether the client is named in a header, so the body need not be read to key the request. */
export function namesClientInHeader(authorization: string | undefined): boolean {
  return /^Basic\s/i.test(authorization ?? '');
}
