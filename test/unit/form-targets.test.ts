import { expect } from 'chai';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { allowFormTargets, basePolicy, CSP_HEADER, type HeaderAccess } from '../../src/http/content-security-policy.ts';
import { clientFormTargets } from '../../src/oidc/form-targets.ts';

type Client = NonNullable<KoaContextWithOIDC['oidc']['client']>;

const clientOf = (metadata: { redirectUris?: string[]; postLogoutRedirectUris?: string[]; applicationType?: string }) => metadata as unknown as Client;

/** A response's headers, as the pages' Koa response offers them. */
function response(policy: string): HeaderAccess & { readonly headers: Map<string, string> } {
  const headers = new Map([[CSP_HEADER, policy]]);
  return { headers, get: (field) => headers.get(field) ?? '', set: (field, value) => void headers.set(field, value) };
}

const formAction = (policy: string) => policy.split('; ').find((directive) => directive.startsWith('form-action'));

describe('form-action for a client\'s pages (the sign-in page\'s CSP)', () => {
  it('a client\'s sources are made once: the same array for the same client object, new ones for a changed registration', () => {
    const client = clientOf({ redirectUris: ['https://app.example/cb', 'https://app.example/other'], postLogoutRedirectUris: ['https://www.example/bye'] });
    const first = clientFormTargets(client);
    expect(first).to.deep.equal(['https://app.example', 'https://www.example']);
    expect(clientFormTargets(client), 'kept for the client').to.equal(first);
    // The library hands out a new Client object when a registration changes.
    const changed = clientOf({ redirectUris: ['https://new.example/cb'] });
    expect(clientFormTargets(changed)).to.deep.equal(['https://new.example']);
    expect(clientFormTargets(clientOf({ redirectUris: ['http://127.0.0.1:8080/cb'], applicationType: 'native' }))).to.deep.equal(['http://127.0.0.1:*']);
    expect(clientFormTargets(undefined)).to.deep.equal([]);
  });

  it('widens form-action with the sources, and widens each policy it is given, not the one it widened before', () => {
    const sources = clientFormTargets(clientOf({ redirectUris: ['https://app.example/cb'] }));
    const page = response(basePolicy());
    allowFormTargets(page, sources);
    expect(formAction(page.get(CSP_HEADER))).to.equal("form-action 'self' https://app.example");
    expect(page.get(CSP_HEADER).replace(' https://app.example', ''), 'the rest of the policy as it was').to.equal(basePolicy());

    // The same sources on a page whose policy differs (another img-src, its own form-action):
    // the widened policy is that page's, not the one kept from the page before.
    const other = response(basePolicy(['https://logo.example']).replace("form-action 'self'", "form-action 'self' https://idp.example"));
    allowFormTargets(other, sources);
    expect(formAction(other.get(CSP_HEADER))).to.equal("form-action 'self' https://idp.example https://app.example");
    expect(other.get(CSP_HEADER)).to.include('https://logo.example');

    // And the first policy again, after the other one.
    const again = response(basePolicy());
    allowFormTargets(again, sources);
    expect(again.get(CSP_HEADER)).to.equal(page.get(CSP_HEADER));
  });

  it('leaves a response without a policy, or a client without sources, as it is', () => {
    const none = response('');
    allowFormTargets(none, ['https://app.example']);
    expect(none.get(CSP_HEADER)).to.equal('');
    const page = response(basePolicy());
    allowFormTargets(page, clientFormTargets(clientOf({})));
    expect(page.get(CSP_HEADER)).to.equal(basePolicy());
  });
});
