import { expect } from 'chai';
import type { KeySet } from '../../src/keys/key-store.ts';
import { keySetView } from '../../src/keys/key-view.ts';

const T0 = Date.UTC(2030, 0, 1);
const key = (activateAt: number, retireAt?: number) => ({ activateAt: new Date(activateAt), ...(retireAt === undefined ? {} : { retireAt: new Date(retireAt) }) });
const keySet = (signingKeys: unknown[]) => ({ signingKeys, cookieKeys: [] }) as unknown as KeySet;

describe('keySetView (what is derived from the key set, once per set and status change)', () => {
  it('derives once per key set until a key changes status, and again for a new set or a clock that went back', () => {
    let now = T0;
    let set = keySet([key(T0 - 1000), key(T0 + 60_000)]);
    const calls: number[] = [];
    const view = keySetView(() => set, () => now, (_set, at) => {
      calls.push(at.getTime());
      return { at: at.getTime() };
    });
    const first = view();
    now += 30_000;
    expect(view(), 'same set, no status change yet: the same value').to.equal(first);
    now = T0 + 60_000;
    expect(view(), 'the next key activated').to.deep.equal({ at: T0 + 60_000 });
    set = keySet([key(T0 - 1000)]);
    view();
    now = T0;
    view();
    expect(calls).to.deep.equal([T0, T0 + 60_000, T0 + 60_000, T0]);
  });
});
