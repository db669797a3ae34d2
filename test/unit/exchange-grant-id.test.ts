import { expect } from 'chai';
import { exchangeGrantId, originalClientId, originalGrantId } from '../../src/oidc/grants/token-exchange.ts';

describe("an exchanged grant's id (token exchange, RFC 8693)", () => {
  it('names the original grant and the client it was made to, also for an exchange of an exchanged token', () => {
    const first = exchangeGrantId('grant-1', 'web.app~x~odd:id');
    expect(originalGrantId(first)).to.equal('grant-1');
    expect(originalClientId(first)).to.equal('web.app~x~odd:id');
    const second = exchangeGrantId(first, 'orders-caller');
    expect(originalGrantId(second)).to.equal('grant-1');
    expect(originalClientId(second), 'the first app, not the caller whose token was exchanged again').to.equal('web.app~x~odd:id');
  });

  it('says nothing of a client for a grant that is no exchange, or an exchange made before the client was recorded', () => {
    expect(originalClientId('grant-1')).to.equal(undefined);
    expect(originalClientId(undefined)).to.equal(undefined);
    expect(originalClientId('grant-1~x~AbCdEf')).to.equal(undefined);
    expect(originalClientId(exchangeGrantId('grant-1~x~AbCdEf', 'orders-caller'))).to.equal(undefined);
  });
});
