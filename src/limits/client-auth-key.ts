import { ipKey } from '../accounts/ip-key.ts';

/**
 * The key a failed client authentication is charged to. With HTTP Basic the client id is in
 * a header, readable before the provider parses the body: (client, IP). Body-based methods
 * (client_secret_post, private_key_jwt) are charged to the IP alone, because reading the body
 * ahead of the library would take it away from the library's own parser.
 */
export function clientAuthKey(authorization: string | undefined, ip: string): string {
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (basic?.[1] !== undefined) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const user = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : decoded;
    try {
      return `${encodeURIComponent(decodeURIComponent(user))}@${ipKey(ip)}`;
    } catch {
      return `-@${ipKey(ip)}`;
    }
  }
  return `-@${ipKey(ip)}`;
}
