import { createSecretBox } from '../crypto/secret-box.ts';
import { upstreamSignIn } from '../interactions/upstream.ts';
import type { Views } from '../interactions/views.ts';
import { upstreamLinking } from '../upstream/linking.ts';
import { createUpstreamProtocol } from '../upstream/protocol.ts';
import type { Wiring } from './wiring.ts';

/** Sign-in with upstream identity providers: the password step's extension and the start / callback routes. */
export function composeUpstream(w: Wiring, { views }: { views: Views }): ReturnType<typeof upstreamSignIn> {
  const { config, core, clock, logger } = w;
  const { services, audit } = core;
  return upstreamSignIn({
    provider: w.provider,
    directory: services.upstream,
    protocol: createUpstreamProtocol({ credentials: (alias) => services.upstream.credentials(alias), now: clock.now }),
    linking: upstreamLinking({ directory: services.upstream, accounts: core.accountLayer.accounts, users: services.users, audit }),
    views,
    logger,
    audit,
    box: createSecretBox(w.secret, 'upstream-transactions'),
    paths: config.routes,
    publicOrigin: w.publicOrigin,
    secureCookies: w.https,
    now: clock.now,
  });
}
