import { timingSafeEqual } from 'node:crypto';

/** Whether two secrets are the same text, compared in constant time (as their UTF-8 bytes). */
export function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
