import type Router from '@koa/router';
import type { AfterResponseStep } from '../oidc/after-response.ts';
import { dateClock } from '../clock.ts';
import { createSecretBox } from '../crypto/secret-box.ts';
import { upstreamLogout } from '../interactions/upstream-logout.ts';
import { upstreamSignIn } from '../interactions/upstream.ts';
import type { LoginExtension } from '../interactions/steps/password.ts';
import type { Views } from '../interactions/views.ts';
import { endpointPath } from '../routes/table.ts';
import { upstreamLinking } from '../upstream/linking.ts';
import { createUpstreamProtocol } from '../upstream/protocol.ts';
import { createUpstreamSessions } from '../upstream/sessions.ts';
import type { Wiring } from './wiring.ts';

export interface Upstream {
  /** The password step's extension: buttons, pending-link notice, JIT action. */
  readonly extension: LoginExtension;
  /** The start routes and per-provider callbacks of sign-in, account linking and sign-out. */
  readonly routes: readonly Router[];
  /** After the provider's resume and end_session_confirm (src/oidc/after-response.ts): signs the user out at the upstream too. */
  readonly signOut: AfterResponseStep;
}

/** Upstream identity providers: sign-in (and linking from the account page) and upstream logout. */
export function composeUpstream(w: Wiring, { views }: { views: Views }): Upstream {
  const { config, core, clock, logger, publicOrigin } = w;
  const { services, audit } = core;
  const protocol = createUpstreamProtocol({ credentials: (alias) => services.upstream.credentials(alias), now: clock.now });
  const box = createSecretBox(w.secret, 'upstream-transactions');
  const common = { directory: services.upstream, protocol, views, logger, audit, box, paths: config.routes, publicOrigin, secureCookies: w.https, now: clock.now };
  const signIn = upstreamSignIn({
    ...common,
    provider: w.provider,
    listed: services.listUpstream,
    linking: upstreamLinking({ directory: services.upstream, accounts: core.accountLayer.accounts, users: services.users, audit }),
    accountLinking: { tickets: services.upstreamLinkTickets, accountUrl: `${publicOrigin}${config.routes.account}/` },
  });
  const signOut = upstreamLogout({
    ...common,
    sessions: createUpstreamSessions({ mongo: core.stores.mongo, box: createSecretBox(w.secret, 'upstream-sessions'), now: dateClock(clock) }),
    signedOutUrl: `${publicOrigin}${endpointPath(config.routes, 'end_session')}/success`,
  });
  return { extension: signIn.extension, routes: [signIn.routes, signOut.routes], signOut: signOut.afterResponse };
}
