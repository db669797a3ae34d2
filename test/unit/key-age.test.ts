import { expect } from 'chai';
import { signingKeyAgeSeconds } from '../../src/keys/key-age.ts';
import type { KeySet, SigningKey } from '../../src/keys/key-store.ts';

const DAY = 86_400_000;
const NOW = new Date('2026-12-02T12:00:00Z');

/** A signing key made `madeDaysAgo` days before NOW, signing from `activeDaysAgo` (retired/removed as given). */
function key(alg: string, madeDaysAgo: number, activeDaysAgo = madeDaysAgo, retiredDaysAgo?: number): SigningKey {
  return {
    kid: `${alg}-${madeDaysAgo}`,
    alg,
    jwk: { kty: 'EC', kid: `${alg}-${madeDaysAgo}` },
    createdAt: new Date(NOW.getTime() - madeDaysAgo * DAY),
    activateAt: new Date(NOW.getTime() - activeDaysAgo * DAY),
    retireAt: retiredDaysAgo === undefined ? null : new Date(NOW.getTime() - retiredDaysAgo * DAY),
    removeAt: null,
  } as SigningKey;
}

const set = (...signingKeys: SigningKey[]): KeySet => ({ version: 1, signingKeys, cookieKeys: [] });

describe('the signing keys’ age (gatehouse_signing_key_age_seconds)', () => {
  it('is the age of the key that signs, not of a key waiting to sign nor of a retired one', () => {
    // RS256 made 100 days ago signs; one made today waits an hour; one made 200 days ago retired 100 days ago.
    const keys = set(key('RS256', 100), key('RS256', 0, -1 / 24), key('RS256', 200, 200, 100));
    expect(signingKeyAgeSeconds(keys, NOW)).to.equal(100 * 86_400);
  });

  it('per algorithm the newest active key signs; the age is the oldest of those', () => {
    // RS256: made 30 days ago, active since 29 (an older active one too); ES256: made 45 days ago.
    const keys = set(key('RS256', 30, 29), key('RS256', 60, 60), key('ES256', 45));
    expect(signingKeyAgeSeconds(keys, NOW)).to.equal(45 * 86_400);
  });

  it('drops when a rotation’s keys start signing', () => {
    const keys = set(key('RS256', 100, 100, -1), key('RS256', 2, 1));
    expect(signingKeyAgeSeconds(keys, NOW)).to.equal(2 * 86_400);
  });

  it('is undefined while no key signs', () => {
    expect(signingKeyAgeSeconds(set(key('RS256', 0, -1)), NOW)).to.equal(undefined);
    expect(signingKeyAgeSeconds(set(), NOW)).to.equal(undefined);
  });
});
