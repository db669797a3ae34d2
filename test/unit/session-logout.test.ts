import { expect } from 'chai';
import type Provider from 'oidc-provider';
import { backchannelLogouts } from '../../src/oidc/session-logout.ts';

/** A provider whose clients' back-channel logouts wait until the test settles them (an app that answers when told). */
function providerWithApps(apps: Record<string, 'answers' | 'unreadable'>) {
  const pending = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  const events: string[] = [];
  const provider = {
    Client: {
      async find(clientId: string) {
        if (apps[clientId] === 'unreadable') throw Object.assign(new Error('connection closed'), { name: 'MongoNetworkError' });
        return {
          clientId,
          backchannelLogoutUri: `https://${clientId}.example/logout`,
          backchannelLogout: (sub: string, sid: string) => new Promise<void>((resolve, reject) => pending.set(`${clientId}:${sub}:${sid}`, { resolve, reject })),
        };
      },
    },
    emit(event: string, _ctx: unknown, ...args: unknown[]) {
      const client = (event === 'backchannel.error' ? args[1] : args[0]) as { clientId: string };
      events.push(`${event} ${client.clientId}`);
      return true;
    },
  } as unknown as Provider;
  return { provider, pending, events };
}

describe('back-channel logouts of sessions ended outside /session/end (src/oidc/session-logout.ts)', () => {
  it('returns before any app answers, sends every app its token at once, and settles when the last one is over', async () => {
    const { provider, pending, events } = providerWithApps({ a: 'answers', b: 'answers' });
    const warnings: string[] = [];
    const logouts = backchannelLogouts(() => provider, { warn: (_fields, msg) => warnings.push(msg) });
    logouts.sessionEnded({ accountId: 'u1', authorizations: { a: { sid: 's1' } } });
    logouts.sessionEnded({ accountId: 'u1', authorizations: { b: { sid: 's2' }, none: {} } });
    let settled = false;
    const settling = logouts.settled().then(() => (settled = true));
    // Both requests are out before either app answered.
    await new Promise((resolve) => setImmediate(resolve));
    expect([...pending.keys()].sort()).to.deep.equal(['a:u1:s1', 'b:u1:s2']);
    pending.get('b:u1:s2')!.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled, 'one app still holds its request').to.equal(false);
    pending.get('a:u1:s1')!.reject(new Error('aborted'));
    await settling;
    expect(events.sort()).to.deep.equal(['backchannel.error a', 'backchannel.success b']);
    expect(warnings).to.deep.equal([]);
  });

  it('logs a logout it could not start (the app could not be read), never drops it silently', async () => {
    const { provider } = providerWithApps({ gone: 'unreadable' });
    const warnings: Array<{ fields: object; msg: string }> = [];
    const logouts = backchannelLogouts(() => provider, { warn: (fields, msg) => warnings.push({ fields, msg }) });
    logouts.sessionEnded({ accountId: 'u1', authorizations: { gone: { sid: 's1' } } });
    await logouts.settled();
    expect(warnings.map(({ msg }) => msg)).to.deep.equal(['back-channel logout not delivered']);
    expect(warnings[0]!.fields).to.include({ clientId: 'gone' });
  });
});
