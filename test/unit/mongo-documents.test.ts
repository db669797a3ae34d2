import { expect } from 'chai';
import type { AdapterPayload } from 'oidc-provider';
import { toDocument } from '../../src/storage/oidc/mongo-documents.ts';

describe('stored oidc documents: the fields lifted beside the payload', () => {
  const payload = { accountId: 'alice', clientId: 'web', grantId: 'g1', uid: 'u1', scope: 'openid' } as AdapterPayload;
  const lifted = (model: string) => {
    const { _id, payload: json, expiresAt, ...fields } = toDocument('id1', { ...payload, kind: model }, 60, 0, model);
    expect(JSON.parse(json), 'the payload keeps every field').to.include({ accountId: 'alice', clientId: 'web', grantId: 'g1' });
    expect(_id).to.equal('id1');
    expect(expiresAt).to.deep.equal(new Date(60_000));
    return Object.keys(fields).sort();
  };

  it("lifts a grant member's grantId only: its user and client are queried through its grant (smaller documents, no unused index)", () => {
    for (const model of ['RefreshToken', 'AccessToken', 'AuthorizationCode']) expect(lifted(model), model).to.deep.equal(['grantId', 'uid']);
  });

  it('lifts what revocation and listings query: a grant\'s user and client, a session\'s user, a machine token\'s client', () => {
    expect(lifted('Grant')).to.deep.equal(['accountId', 'clientId', 'grantId', 'uid']);
    expect(lifted('Session')).to.deep.equal(['accountId', 'grantId', 'uid']);
    expect(lifted('ClientCredentials')).to.deep.equal(['clientId', 'grantId', 'uid']);
    expect(lifted('RegistrationAccessToken')).to.deep.equal(['clientId', 'grantId', 'uid']);
  });
});
