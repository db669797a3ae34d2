import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { AdapterFactory, AdapterPayload } from 'oidc-provider';

export interface ContractSubject {
  /** Gatehouse's MongoDB adapters mark a consumed refresh token used once its rotation completes. */
  readonly adapter: AdapterFactory & { completeRotation?(id: string): Promise<void> };
  /** The store's clock (milliseconds since the epoch): the payloads' `iat`/`exp` and the consumption times are on it. */
  now(): number;
  /**
   * Lets `ms` pass for the store, without waiting: its clock moves (Gatehouse's clock seam,
   * src/clock.ts), or for Redis, whose EXPIRE runs on the server's own clock, every key's
   * remaining lifetime shrinks by `ms`. Records live 60 s or more in real time, so however
   * slow the machine, nothing runs out before the suite says so.
   */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface ContractOptions {
  /**
   * Whether `consume` is a real single-use gate. oidc-provider's memory adapter is not (a
   * second consume simply overwrites `consumed`); the suite asserts that too, which shows the
   * concurrency checks can tell the difference.
   */
  readonly atomicConsume: boolean;
  /**
   * Whether a consume of a code (device code, ...) that loses to another revokes the code's grant,
   * as oidc-provider does when it finds a code consumed (Gatehouse's routing adapter:
   * src/storage/oidc/adapter-factory.ts). The stores' own adapters only refuse it.
   */
  readonly revokesGrantOnLostConsume?: boolean;
}

const id = () => randomBytes(12).toString('base64url');

async function settle(promises: readonly Promise<unknown>[]) {
  const results = await Promise.allSettled(promises);
  return {
    won: results.filter((r) => r.status === 'fulfilled').length,
    errors: results.flatMap((r) => (r.status === 'rejected' ? [r.reason as { error?: string }] : [])),
  };
}

/**
 * One behavioural contract for every oidc-provider adapter Gatehouse may run on
 * (Hydra-style: one suite, many backends).
 */
export function describeAdapterContract(
  label: string,
  { atomicConsume, revokesGrantOnLostConsume = false }: ContractOptions,
  setup: () => Promise<ContractSubject>,
): void {
  const single = (atomic: string, notAtomic: string) => (atomicConsume ? atomic : notAtomic);

  describe(`oidc adapter contract: ${label}`, function () {
    let subject: ContractSubject;
    const adapter = (model: string) => subject.adapter(model);
    const nowSeconds = () => Math.floor(subject.now() / 1000);
    const token = (overrides: Record<string, unknown> = {}): AdapterPayload =>
      ({
        iat: nowSeconds(),
        exp: nowSeconds() + 60,
        accountId: 'account-1',
        clientId: 'client-1',
        grantId: id(),
        scope: 'openid offline_access',
        claims: { userinfo: { email: null } },
        ...overrides,
      }) as AdapterPayload;

    before(async () => {
      subject = await setup();
    });
    after(async () => {
      await subject.close();
    });

    it('returns exactly what was upserted, for every kind of model', async () => {
      const models = ['AccessToken', 'AuthorizationCode', 'RefreshToken', 'ClientCredentials', 'Grant', 'Interaction', 'ReplayDetection', 'PushedAuthorizationRequest', 'BackchannelAuthenticationRequest', 'InitialAccessToken', 'RegistrationAccessToken'];
      for (const model of models) {
        const key = id();
        const payload = token({ kind: model, jti: key, nested: { list: [1, 'two', { three: [] }], empty: [], nothing: null } });
        await adapter(model).upsert(key, structuredClone(payload), 60);
        expect(await adapter(model).find(key), model).to.deep.equal(payload);
      }
      expect(await adapter('AccessToken').find(id())).to.equal(undefined);
    });

    it('keeps models apart: the same id in two models is two records', async () => {
      const key = id();
      await adapter('AccessToken').upsert(key, token({ kind: 'AccessToken' }), 60);
      expect(await adapter('AuthorizationCode').find(key)).to.equal(undefined);
    });

    it('replaces a record on a second upsert', async () => {
      const key = id();
      await adapter('Grant').upsert(key, { kind: 'Grant', accountId: 'a', openid: { scope: 'openid' } } as AdapterPayload, 60);
      expect(await adapter('Grant').find(key)).to.deep.equal({ kind: 'Grant', accountId: 'a', openid: { scope: 'openid' } });
      await adapter('Grant').upsert(key, { kind: 'Grant', accountId: 'a', openid: { scope: 'openid email' } } as AdapterPayload, 60);
      expect(await adapter('Grant').find(key)).to.deep.equal({ kind: 'Grant', accountId: 'a', openid: { scope: 'openid email' } });
    });

    it('finds a session by uid and a device code by user code, and forgets both on destroy', async () => {
      const sessionId = id();
      const uid = id();
      const session = { kind: 'Session', uid, accountId: 'account-1', loginTs: nowSeconds() } as AdapterPayload;
      await adapter('Session').upsert(sessionId, structuredClone(session), 60);
      expect(await adapter('Session').findByUid(uid)).to.deep.equal(session);
      expect(await adapter('Session').findByUid(id())).to.equal(undefined);

      const deviceId = id();
      const userCode = `${id().slice(0, 4)}-${id().slice(0, 4)}`;
      const device = token({ kind: 'DeviceCode', userCode, deviceInfo: { ip: '127.0.0.1' } });
      await adapter('DeviceCode').upsert(deviceId, structuredClone(device), 60);
      expect(await adapter('DeviceCode').findByUserCode(userCode)).to.deep.equal(device);
      expect(await adapter('DeviceCode').findByUserCode('NOPE-NOPE')).to.equal(undefined);

      expect(await adapter('Session').find(sessionId)).to.deep.equal(session);
      await adapter('Session').destroy(sessionId);
      await adapter('DeviceCode').destroy(deviceId);
      expect(await adapter('Session').find(sessionId)).to.equal(undefined);
      expect(await adapter('Session').findByUid(uid)).to.equal(undefined);
      expect(await adapter('DeviceCode').find(deviceId)).to.equal(undefined);
      expect(await adapter('DeviceCode').findByUserCode(userCode)).to.equal(undefined);
    });

    it('round-trips payload keys that contain "." and "$" exactly', async () => {
      const key = id();
      const session = {
        kind: 'Session',
        uid: id(),
        accountId: 'account-1',
        authorizations: {
          'app.example.com': { sid: 's1', grantId: 'g1', persistsLogout: true },
          $admin: { sid: 's2', grantId: 'g2' },
          'a.b.$c': { nested: { 'x.y': 1, $z: [{ 'k.$': 'v' }] } },
        },
      } as unknown as AdapterPayload;
      await adapter('Session').upsert(key, structuredClone(session), 60);
      expect(await adapter('Session').find(key)).to.deep.equal(session);
    });

    it('marks a consumed record with the consumption time and keeps the rest of the payload', async () => {
      const key = id();
      const payload = token({ kind: 'AuthorizationCode', redirectUri: 'https://rp.example.com/cb' });
      await adapter('AuthorizationCode').upsert(key, structuredClone(payload), 60);
      const before = nowSeconds();
      await adapter('AuthorizationCode').consume(key);
      const found = await adapter('AuthorizationCode').find(key);
      expect(found?.consumed).to.be.a('number').within(before - 1, nowSeconds() + 1);
      const { consumed: _consumed, ...rest } = found ?? {};
      expect(rest).to.deep.equal(payload);
    });

    it(single('rejects a second consume of the same code', 'lets a second consume overwrite the first'), async () => {
      const key = id();
      await adapter('AuthorizationCode').upsert(key, token({ kind: 'AuthorizationCode' }), 60);
      await adapter('AuthorizationCode').consume(key);
      const second = await settle([adapter('AuthorizationCode').consume(key)]);
      if (atomicConsume) {
        expect(second.won).to.equal(0);
        expect(second.errors[0]?.error).to.equal('invalid_grant');
      } else {
        expect(second.won).to.equal(1);
      }
    });

    for (const model of ['AuthorizationCode', 'RefreshToken', 'DeviceCode']) {
      it(single(`gives exactly one winner among concurrent consumes of one ${model}`, `lets every concurrent consume of one ${model} win`), async () => {
        const key = id();
        await adapter(model).upsert(key, token({ kind: model, userCode: model === 'DeviceCode' ? id() : undefined }), 60);
        const outcome = await settle(Array.from({ length: 8 }, () => adapter(model).consume(key)));
        if (model === 'RefreshToken') await subject.adapter.completeRotation?.(key);
        if (atomicConsume) {
          expect(outcome.won).to.equal(1);
          expect(outcome.errors.map((e) => e.error)).to.deep.equal(Array(7).fill('invalid_grant'));
        } else {
          expect(outcome.won).to.equal(8);
        }
        if (revokesGrantOnLostConsume && model !== 'RefreshToken') expect(await adapter(model).find(key), 'gone with its grant').to.equal(undefined);
        else expect((await adapter(model).find(key))?.consumed).to.be.a('number');
      });
    }

    if (revokesGrantOnLostConsume) {
      it('revokes the grant of a code whose consume lost: its tokens in both stores and the grant itself, not other grants', async () => {
        const grantId = id();
        const code = id();
        const tokens = { AccessToken: id(), RefreshToken: id() };
        const other = id();
        await adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId: 'account-1', clientId: 'client-1', exp: nowSeconds() + 600 } as AdapterPayload, 600);
        await adapter('AuthorizationCode').upsert(code, token({ kind: 'AuthorizationCode', grantId }), 60);
        for (const [model, key] of Object.entries(tokens)) await adapter(model).upsert(key, token({ kind: model, grantId }), 60);
        await adapter('AccessToken').upsert(other, token({ kind: 'AccessToken' }), 60);
        await adapter('AuthorizationCode').consume(code);
        const lost = await settle([adapter('AuthorizationCode').consume(code)]);
        expect(lost.errors.map((e) => e.error)).to.deep.equal(['invalid_grant']);
        expect(await adapter('Grant').find(grantId), 'the grant').to.equal(undefined);
        for (const [model, key] of Object.entries(tokens)) expect(await adapter(model).find(key), model).to.equal(undefined);
        expect(await adapter('AccessToken').find(other), "another grant's token").to.not.equal(undefined);
      });
    }

    it('revokes every token of a grant across models, and only that grant', async () => {
      const grantId = id();
      const otherGrant = id();
      const members = ['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest'];
      const keys = members.map(() => id());
      await Promise.all(
        members.map((model, i) => adapter(model).upsert(keys[i]!, token({ kind: model, grantId, userCode: model === 'DeviceCode' ? id() : undefined }), 60)),
      );
      const survivor = id();
      await adapter('AccessToken').upsert(survivor, token({ kind: 'AccessToken', grantId: otherGrant }), 60);

      await adapter('AccessToken').revokeByGrantId(grantId);

      for (const [i, model] of members.entries()) {
        expect(await adapter(model).find(keys[i]!), model).to.equal(undefined);
      }
      expect(await adapter('AccessToken').find(survivor)).to.have.property('grantId', otherGrant);
    });

    // The library signs the old user out (revoking their grants) when someone else signs in
    // during an interaction, then resumes that interaction (switching account).
    it('keeps an interaction in progress that names a revoked grant', async () => {
      const grantId = id();
      const uid = id();
      await adapter('Interaction').upsert(uid, token({ kind: 'Interaction', grantId }), 60);
      await adapter('AccessToken').upsert(id(), token({ kind: 'AccessToken', grantId }), 60);
      await adapter('AccessToken').revokeByGrantId(grantId);
      expect(await adapter('Interaction').find(uid)).to.have.property('grantId', grantId);
    });

    it('never returns an expired record, consumed or not, and consume keeps the expiry', async () => {
      const [plain, consumed, sessionId, uid, userCode] = [id(), id(), id(), id(), id()];
      await adapter('AccessToken').upsert(plain, token({ kind: 'AccessToken' }), 60);
      await adapter('AuthorizationCode').upsert(consumed, token({ kind: 'AuthorizationCode' }), 60);
      await adapter('Session').upsert(sessionId, { kind: 'Session', uid, exp: nowSeconds() + 60 } as AdapterPayload, 60);
      await adapter('DeviceCode').upsert(id(), token({ kind: 'DeviceCode', userCode }), 60);
      await adapter('AuthorizationCode').consume(consumed);
      expect(await adapter('AuthorizationCode').find(consumed)).to.have.property('consumed');
      expect(await adapter('Session').findByUid(uid)).to.have.property('uid', uid);

      await subject.advance(60_300);

      expect(await adapter('AccessToken').find(plain)).to.equal(undefined);
      expect(await adapter('AuthorizationCode').find(consumed)).to.equal(undefined);
      expect(await adapter('Session').find(sessionId)).to.equal(undefined);
      expect(await adapter('Session').findByUid(uid)).to.equal(undefined);
      expect(await adapter('DeviceCode').findByUserCode(userCode)).to.equal(undefined);
    });

    it('keeps a grant revocable while its longest-lived token lives (index outlives short members)', async () => {
      const grantId = id();
      const accessToken = id();
      const refreshToken = id();
      // The long-lived member first: a later, shorter member must not shorten the index.
      await adapter('RefreshToken').upsert(refreshToken, token({ kind: 'RefreshToken', grantId }), 120);
      await adapter('AccessToken').upsert(accessToken, token({ kind: 'AccessToken', grantId }), 60);
      await subject.advance(60_300);
      expect(await adapter('AccessToken').find(accessToken)).to.equal(undefined);
      expect(await adapter('RefreshToken').find(refreshToken)).to.have.property('grantId', grantId);

      await adapter('AccessToken').revokeByGrantId(grantId);
      expect(await adapter('RefreshToken').find(refreshToken)).to.equal(undefined);
    });

    it('keeps every record and grant membership when upserts race', async () => {
      const grantId = id();
      const keys = Array.from({ length: 20 }, () => id());
      await Promise.all(keys.map((key, i) => adapter(i % 2 ? 'AccessToken' : 'RefreshToken').upsert(key, token({ kind: i % 2 ? 'AccessToken' : 'RefreshToken', grantId, n: i }), 60)));
      for (const [i, key] of keys.entries()) {
        expect(await adapter(i % 2 ? 'AccessToken' : 'RefreshToken').find(key)).to.have.property('n', i);
      }

      const same = id();
      const versions = Array.from({ length: 10 }, (_, n) => ({ kind: 'Grant', accountId: 'a', n, big: 'x'.repeat(1000 + n) }));
      await Promise.all(versions.map((version) => adapter('Grant').upsert(same, structuredClone(version) as AdapterPayload, 60)));
      const winner = (await adapter('Grant').find(same)) as { n: number } | undefined;
      expect(winner).to.deep.equal(versions[winner?.n ?? -1]);

      await adapter('RefreshToken').revokeByGrantId(grantId);
      for (const [i, key] of keys.entries()) {
        expect(await adapter(i % 2 ? 'AccessToken' : 'RefreshToken').find(key)).to.equal(undefined);
      }
    });
  });
}
