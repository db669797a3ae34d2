import { expect } from 'chai';
import { threadSharesOf } from '../../bench/lib/perf-shares.ts';

/** One sample of `perf script -F comm,tid,ip,sym`: the header, then its frames innermost first. */
const sample = (tid: number, ...frames: string[]) => `node ${tid}\n${frames.map((frame, index) => `\t${(0x1000 + index).toString(16)} ${frame}`).join('\n')}\n`;
const LOOP = 100;

/** The event loop's "what it did" line for `work` (µs per request with 999 samples a second). */
function loopWork(script: string, work: string): string | undefined {
  const text = threadSharesOf(script, [LOOP], 1);
  const loop = text.slice(text.indexOf('(event loop)'));
  return loop.split('\n').find((line) => line.endsWith(`  ${work}`));
}

describe('bench perf shares: what the event loop ran (bench/lib/perf-shares.ts)', () => {
  // perf20 read 51 µs/token of "OpenSSL" on client_credentials' event loop that was JavaScript:
  // the request's code after the signature runs inside WebCrypto's completion callback.
  it('charges JavaScript running inside a crypto job\'s completion callback to JavaScript, not to OpenSSL', () => {
    const script = sample(LOOP, 'Builtins_LoadIC', "JS:*'respond file:///x/node_modules/koa/lib/application.js:288", 'node::crypto::CryptoJob<node::crypto::SignTraits>::AfterThreadPoolWork(int)', 'uv__work_done', 'uv_run');
    expect(loopWork(script, 'JavaScript')).to.include('100.0% of it');
    expect(loopWork(script, 'WebCrypto / OpenSSL')).to.equal(undefined);
  });

  it('charges OpenSSL called from JavaScript to OpenSSL, and names the call and its caller', () => {
    const script = sample(LOOP, 'sha256_block_data_order_shaext', 'node::crypto::Hash::OneShotDigest(v8::FunctionCallbackInfo<v8::Value> const&)', 'Builtins_CallApiCallbackGeneric', "JS:*hash node:internal/crypto/hash:294", "JS:*'find file:///x/node_modules/oidc-provider/lib/models/client.js:572");
    expect(loopWork(script, 'WebCrypto / OpenSSL')).to.include('100.0% of it');
    expect(threadSharesOf(script, [LOOP], 1)).to.include('node::crypto::Hash::OneShotDigest ← hash node:internal/crypto/hash:294');
  });

  it('reads a helper thread, which runs no JavaScript, by its whole stack', () => {
    const script = sample(7, 'ossl_rsaz_amm52x20_x2_ifma256', 'RSA_sign', 'node::crypto::CryptoJob<node::crypto::SignTraits>::DoThreadPoolWork()', 'worker').replace('node 7', 'libuv-worker 7');
    const text = threadSharesOf(script, [LOOP], 1);
    expect(text.slice(text.indexOf('libuv-worker'))).to.match(/100\.0% of it .*WebCrypto \/ OpenSSL/);
  });
});
