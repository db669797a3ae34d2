import { expect } from 'chai';
import { deepestFirst, exchangeGrantId, exchangeOrigins, originalClientId, originalGrantId, parentOf } from '../../src/oidc/grants/exchanged-grant-ids.ts';

describe("an exchanged grant's id (token exchange, RFC 8693)", () => {
  it('names the original grant and the client of the token exchanged, also for an exchange of an exchanged token', () => {
    const first = exchangeGrantId('grant-1', 'web.app~x~odd:id');
    expect(originalGrantId(first)).to.equal('grant-1');
    expect(originalClientId(first)).to.equal('web.app~x~odd:id');
    const second = exchangeGrantId(first, 'orders-caller');
    expect(originalGrantId(second), 'the first grant: the cascade looks for the exchanges under it').to.equal('grant-1');
    expect(originalClientId(second), 'the client whose token was exchanged again').to.equal('orders-caller');
  });

  it('has the same length however deeply exchanges nest (80 exchanges of exchanges)', () => {
    let id = exchangeGrantId('grant-1', 'app');
    const length = id.length;
    for (let depth = 0; depth < 80; depth += 1) id = exchangeGrantId(id, 'app');
    expect(id.length).to.equal(length);
    expect(length).to.be.below('grant-1'.length + 60);
  });

  it('says nothing of a client for a grant that is no exchange, or an exchange made before the client was recorded', () => {
    expect(originalClientId('grant-1')).to.equal(undefined);
    expect(originalClientId(undefined)).to.equal(undefined);
    expect(originalClientId('grant-1~x~AbCdEfGhIjKlMnOp')).to.equal(undefined);
    expect(originalClientId(exchangeGrantId('grant-1~x~AbCdEfGhIjKlMnOp', 'orders-caller'))).to.equal('orders-caller');
  });

  it('names the grant it was exchanged from among the grants given (the immediate one, not the first)', () => {
    const first = exchangeGrantId('grant-1', 'web');
    const second = exchangeGrantId(first, 'caller');
    const third = exchangeGrantId(second, 'other');
    const known = ['grant-1', first, second, third];
    expect(known.map((id) => parentOf(id, known))).to.deep.equal([undefined, 'grant-1', first, second]);
    // The first grant is named by the id itself; a later one only when it is among the grants given.
    expect(parentOf(second, [second])).to.equal(undefined);
    expect(parentOf(first, [first])).to.equal('grant-1');
  });

  it('reads the ids earlier versions made: each exchange of an exchange appended to the id', () => {
    const old = 'grant-1~x~AbCdEfGhIjKlMnOp.d2Vi~x~QrStUvWxYz012345';
    expect(originalGrantId(old)).to.equal('grant-1');
    expect(parentOf(old, [])).to.equal('grant-1~x~AbCdEfGhIjKlMnOp.d2Vi');
    expect(parentOf('grant-1~x~AbCdEfGhIjKlMnOp.d2Vi', [])).to.equal('grant-1');
    // An exchange of an old-form exchange is of the new form, its parent found by the old id.
    const next = exchangeGrantId(old, 'caller');
    expect(parentOf(next, [old])).to.equal(old);
  });

  it('orders grants so that every exchange comes before the grant it was exchanged from', () => {
    const first = exchangeGrantId('grant-1', 'web');
    const second = exchangeGrantId(first, 'caller');
    const third = exchangeGrantId(second, 'other');
    const order = deepestFirst(['grant-1', first, 'grant-2', second, third]);
    expect(order.indexOf(third)).to.be.below(order.indexOf(second));
    expect(order.indexOf(second)).to.be.below(order.indexOf(first));
    expect(order.indexOf(first)).to.be.below(order.indexOf('grant-1'));
  });

  it("tells each exchanged grant's origin: the grant and client it was exchanged from, and the first grant of the chain", () => {
    const first = exchangeGrantId('grant-1', 'web');
    const second = exchangeGrantId(first, 'caller');
    const origins = exchangeOrigins([
      { id: 'grant-1', clientId: 'web' },
      { id: first, clientId: 'caller' },
      { id: second, clientId: 'other' },
    ]);
    expect(origins.get('grant-1')).to.equal(undefined);
    expect(origins.get(first)).to.deep.equal({ grantId: 'grant-1', clientId: 'web', rootGrantId: 'grant-1' });
    expect(origins.get(second)).to.deep.equal({ grantId: first, clientId: 'caller', rootGrantId: 'grant-1' });
    // Its parent gone (not listed): the client recorded in the id, the grant unknown.
    expect(exchangeOrigins([{ id: second, clientId: 'other' }]).get(second)).to.deep.equal({ grantId: null, clientId: 'caller', rootGrantId: 'grant-1' });
  });
});
