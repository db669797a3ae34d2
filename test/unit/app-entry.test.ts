import { expect } from 'chai';
import { ACCOUNT_CLIENT_ID } from '../../src/clients/account-client.ts';
import { listings } from '../../src/operations/app-entry.ts';
import { exchangeGrantId } from '../../src/oidc/grants/token-exchange.ts';

describe("which account-page entry lists a grant (app-entry.ts, the one rule of the page's list and of every removal)", () => {
  const web = { id: 'grant-web', clientId: 'web' };
  const own = { id: 'grant-caller', clientId: 'caller' };
  const through = { id: exchangeGrantId(web.id, 'web'), clientId: 'caller' };
  const again = { id: exchangeGrantId(through.id, 'caller'), clientId: 'other' };
  const orphan = { id: exchangeGrantId('grant-gone', 'web'), clientId: 'caller' };
  const page = { id: 'grant-page', clientId: ACCOUNT_CLIENT_ID };
  const fromPage = { id: exchangeGrantId(page.id, ACCOUNT_CLIENT_ID), clientId: 'caller' };

  it("lists a client's own grant under it, access exchanged from an app's grant in force under that app, an exchange whose original is gone under its own client", () => {
    const shown = listings([web, own, through, again, orphan, page, fromPage]).map(({ grant, entry, as }) => [grant.id, entry, as]);
    expect(shown).to.deep.equal([
      [web.id, 'web', 'own'],
      [own.id, 'caller', 'own'],
      [through.id, 'web', 'via'],
      // An exchange of an exchanged token: listed under the first app, whose grant it came from.
      [again.id, 'web', 'via'],
      [orphan.id, 'caller', 'exchanged'],
      [page.id, ACCOUNT_CLIENT_ID, 'own'],
      // The account page is no app of the list: what was exchanged from its grant is the client's own.
      [fromPage.id, 'caller', 'own'],
    ]);
  });

  it('judges by the grants given: the same exchange is the client\'s own once its original is not among them', () => {
    expect(listings([through]).map(({ entry, as }) => [entry, as])).to.deep.equal([['caller', 'exchanged']]);
  });
});
