import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import Koa from 'koa';
import { previousSecretGate } from '../../src/clients/previous-secret.ts';
import { PREVIOUS_CLIENT_SECRET, PREVIOUS_CLIENT_SECRET_UNTIL } from '../../src/clients/repository.ts';
import { gatehouseRoutes } from '../../src/routes/table.ts';

/**
 * The previous-secret gate reads a Basic header as the library does (RFC 6749 §2.3.1: each half
 * form-urlencoded): an id and a secret holding `+`, `%` or `:` are decoded before they are
 * compared, and the header handed on carries the current secret, encoded the same way. A secret
 * imported from Keycloak may hold any of them; generated ones hold none.
 */
const CLIENT_ID = 'shop:web app';
const PREVIOUS = 'old+secret%:with space';
const CURRENT = 'new secret+%:';
const NOW = Date.parse('2026-12-03T08:00:00Z');
const form = (text: string) => encodeURIComponent(text).replace(/%20/g, '+');
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${form(id)}:${form(secret)}`).toString('base64')}`;

describe('previous-secret gate: Basic credentials that need decoding', () => {
  let url: string;
  let close: () => void;
  const audited: unknown[] = [];

  before(async () => {
    const app = new Koa();
    const client = { client_id: CLIENT_ID, client_secret: CURRENT, [PREVIOUS_CLIENT_SECRET]: PREVIOUS, [PREVIOUS_CLIENT_SECRET_UNTIL]: NOW + 60_000 };
    app.use(previousSecretGate({ routes: gatehouseRoutes('http://127.0.0.1'), findClient: (id) => (id === CLIENT_ID ? client : undefined), now: () => NOW, audit: (event) => audited.push(event) }));
    // What the library would be handed.
    app.use((ctx) => {
      ctx.body = { authorization: ctx.req.headers.authorization ?? null };
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
    close = () => server.close();
  });
  after(() => close());

  const handedOn = async (authorization: string) => {
    const response = await fetch(url, { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    return ((await response.json()) as { authorization: string | null }).authorization;
  };

  it('takes the previous secret with an encoded id and secret, and hands on the current one encoded alike', async () => {
    const sent = await handedOn(basic(CLIENT_ID, PREVIOUS));
    const decoded = Buffer.from(sent!.slice('Basic '.length), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    expect(decodeURIComponent(decoded.slice(0, colon))).to.equal(CLIENT_ID);
    expect(decodeURIComponent(decoded.slice(colon + 1))).to.equal(CURRENT);
    expect(audited).to.have.length(1);
  });

  it('leaves the current secret, a wrong one and another form of the same bytes untouched', async () => {
    for (const header of [basic(CLIENT_ID, CURRENT), basic(CLIENT_ID, 'wrong'), `Basic ${Buffer.from(`${CLIENT_ID}:${PREVIOUS}`).toString('base64')}`]) {
      expect(await handedOn(header)).to.equal(header);
    }
  });
});
