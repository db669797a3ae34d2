import { isIPv4, isIPv6 } from 'node:net';

/**
 * The address a failure is charged to. IPv4 (also when IPv4-mapped) counts per address; IPv6
 * per /64, the smallest block a single subscriber usually holds, so rotating through one's own
 * 2^64 addresses does not reset the count.
 */
export function ipKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  const address = ip.replace(/%.*$/, '').toLowerCase();
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
