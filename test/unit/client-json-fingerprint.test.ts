import { expect } from 'chai';
import type { AdapterPayload } from 'oidc-provider';
import { withJsonFingerprint } from '../../src/clients/json-fingerprint.ts';
import { generateSigningKey } from '../../src/keys/generate.ts';
import type { KeySet } from '../../src/keys/key-store.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { providerBuilder } from '../../src/oidc/build-provider.ts';
import { testProviderSettings } from '../helpers/provider-settings.ts';

const record = (redirect: string) => ({
  client_id: 'app',
  client_secret: 'a-secret-of-at-least-32-characters-long',
  redirect_uris: [redirect],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
});

describe('client records fingerprinted for the library (src/clients/json-fingerprint.ts)', () => {
  it('stringifies to a short fingerprint of its whole content: equal content, equal fingerprint; any change, another', () => {
    const one = withJsonFingerprint(record('https://app.example/cb'));
    const same = withJsonFingerprint(record('https://app.example/cb'));
    const changed = withJsonFingerprint(record('https://app.example/other'));
    expect(JSON.stringify(one)).to.equal(JSON.stringify(same));
    expect(JSON.stringify(one)).not.to.equal(JSON.stringify(changed));
    expect(JSON.stringify(one)).to.match(/^"gatehouse-client:[A-Za-z0-9_-]{43}"$/);
    expect(JSON.stringify(one), 'the secret is not in it').not.to.include('a-secret');
  });

  it('keeps the record as it was for everyone reading it, and frozen', () => {
    const fingerprinted = withJsonFingerprint(record('https://app.example/cb'));
    expect(Object.keys(fingerprinted)).to.deep.equal(Object.keys(record('https://app.example/cb')));
    expect({ ...fingerprinted }).to.deep.equal(record('https://app.example/cb'));
    expect(Object.isFrozen(fingerprinted)).to.equal(true);
    expect(() => {
      (fingerprinted as { client_id: string }).client_id = 'other';
    }).to.throw(TypeError);
  });

  it('the library builds one Client per content: the same instance while the record is unchanged, a new one with the new metadata after a change', async () => {
    let current: AdapterPayload | undefined = withJsonFingerprint(record('https://app.example/cb')) as AdapterPayload;
    const settings = testProviderSettings();
    const base = settings.adapter;
    const jwk = await generateSigningKey('RS256');
    const now = new Date();
    const keySet: KeySet = {
      version: 1,
      signingKeys: [{ kid: jwk.kid, alg: 'RS256', jwk, createdAt: now, activateAt: new Date(now.getTime() - 1000), retireAt: null, removeAt: null }],
      cookieKeys: [{ id: 'c', key: 'cookie-key', createdAt: now, activateAt: new Date(now.getTime() - 1000), retireAt: null, removeAt: null }],
    };
    const provider = providerBuilder({
      issuer: 'http://127.0.0.1',
      logger: createLogger('silent'),
      settings: { ...settings, adapter: (model) => (model === 'Client' ? { ...base(model), find: async () => current } : base(model)) },
    })(keySet, now);
    const first = await provider.Client.find('app');
    expect(first?.redirectUris).to.deep.equal(['https://app.example/cb']);
    expect(await provider.Client.find('app'), 'unchanged: the instance the library built').to.equal(first);
    current = withJsonFingerprint(record('https://app.example/other')) as AdapterPayload;
    const second = await provider.Client.find('app');
    expect(second).not.to.equal(first);
    expect(second?.redirectUris).to.deep.equal(['https://app.example/other']);
    current = withJsonFingerprint(record('https://app.example/cb')) as AdapterPayload;
    expect(await provider.Client.find('app'), 'the first content again: its instance').to.equal(first);
  });
});
