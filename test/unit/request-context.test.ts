import { expect } from 'chai';
import { currentRequestArrival, currentRequestId, currentRequestIp, requestContext, runInRequest } from '../../src/observability/request-context.ts';

describe('request context (the request id and address code reads while serving a request)', () => {
  it("reads the caller's address from the request only when asked, once, and gives it inside the request only", () => {
    let reads = 0;
    const request = {
      get ip() {
        reads += 1;
        return '203.0.113.7';
      },
    };
    const context = requestContext('req-12345678', request);
    expect(reads).to.equal(0);
    runInRequest(context, () => {
      expect(currentRequestId()).to.equal('req-12345678');
      expect(reads).to.equal(0);
      expect(currentRequestIp()).to.equal('203.0.113.7');
      expect(currentRequestIp()).to.equal('203.0.113.7');
    });
    expect(reads).to.equal(1);
    expect(currentRequestId()).to.equal(undefined);
    expect(currentRequestIp()).to.equal(undefined);
  });

  it('keeps an empty address as it is (a request whose socket has none)', () => {
    let reads = 0;
    const context = requestContext('req-87654321', {
      get ip() {
        reads += 1;
        return '';
      },
    });
    expect(context.ip).to.equal('');
    expect(context.ip).to.equal('');
    expect(reads).to.equal(1);
  });

  it('gives when the request arrived (on the stopwatch) inside the request only', () => {
    runInRequest(requestContext('req-arrived1', { ip: '' }, 1234.5), () => {
      expect(currentRequestArrival()).to.equal(1234.5);
      runInRequest(requestContext('req-arrived2', { ip: '' }), () => expect(currentRequestArrival()).to.equal(undefined));
    });
    expect(currentRequestArrival()).to.equal(undefined);
  });
});
