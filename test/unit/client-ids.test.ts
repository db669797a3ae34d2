import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { generateClientId } from '../../src/clients/secrets.ts';

/** A random source that hands out the given buffers first, then real random bytes. */
function scripted(...first: Buffer[]): (size: number) => Buffer {
  return (size) => {
    const next = first.shift();
    return next === undefined ? randomBytes(size) : Buffer.concat([next, Buffer.alloc(size)]).subarray(0, size);
  };
}

describe('generated client ids', () => {
  it('never start with "-" (a CLI would read the id as an option), whatever the first random byte', () => {
    for (let byte = 0; byte < 256; byte += 1) {
      const id = generateClientId(scripted(Buffer.from([byte])));
      expect(id, `first byte ${byte}`).to.match(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
  });

  it('keep 128 random bits in 22 base64url characters', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i += 1) {
      const id = generateClientId();
      expect(id).to.match(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      seen.add(id);
    }
    expect(seen.size).to.equal(20_000);
  });
});
