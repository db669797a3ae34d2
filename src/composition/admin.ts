import { bootstrapAdmin } from '../admin/bootstrap.ts';
import { effectiveWithRuntime } from '../config/effective.ts';
import { loadOnFirstRequest } from '../http/load-on-first-request.ts';
import type { Observability } from './observability.ts';
import type { OidcProvider } from './provider.ts';
import type { SelfService } from './self-service.ts';
import type { Wiring } from './wiring.ts';

/** The admin API audience, the admin role and the first administrator (GATEHOUSE_ADMIN_*). */
export async function prepareAdmin({ config, core, logger }: Wiring): Promise<void> {
  await bootstrapAdmin(core.services, config.admin === undefined ? undefined : { username: config.admin.username, password: config.admin.password.reveal() }, logger);
}

/**
 * The admin API (routes, zod schemas, OpenAPI document), loaded with its first request: most
 * instances never serve one, and building it at startup costs memory and start-up time.
 */
export function adminApi(w: Wiring, { oidc, observability, selfService }: { oidc: OidcProvider; observability: Observability; selfService: SelfService }) {
  const { config, core, logger } = w;
  const { services, storage } = core;
  const { redis } = core.stores;
  return loadOnFirstRequest(config.routes.admin, async () => {
    const [{ adminAuth }, { adminRouter }, { adminRoutes }, { createOperations }] = await Promise.all([
      import('../admin/auth.ts'),
      import('../admin/router.ts'),
      import('../admin/routes.ts'),
      import('../operations/index.ts'),
    ]);
    const { ring } = oidc;
    return adminRouter({
      adminUrl: services.adminAudience,
      logger,
      auth: adminAuth({
        issuer: config.issuer,
        audience: services.adminAudience,
        publicJwks: oidc.publicJwks,
        findRecord: oidc.jwtRecords.findRecord,
        adapter: storage.adapter,
        clients: services.clients,
        accounts: services.accounts,
      }),
      routes: adminRoutes(
        createOperations({
          services,
          issuer: config.issuer,
          status: { readiness: observability.readiness, timeoutMs: observability.readinessTimeoutMs, settings: async () => {
            const runtime = services.runtimeSettings;
            const [signIn, passwordPolicy, bruteForce, mfa, otp] = await Promise.all([runtime.signIn.current(), runtime.passwordPolicy.current(), runtime.bruteForce.current(), runtime.mfa.current(), runtime.otp.current()]);
            return effectiveWithRuntime(config, { signIn, passwordPolicy, bruteForce, mfa, otp });
          } },
          emailConfigured: selfService.mailConfigured,
          lifetimes: config.lifetimes,
          brandName: config.pages.brandName,
          keys: { keySet: async () => ring.keySet(), rotate: async () => ({ ...(await ring.rotate()), announced: redis !== undefined }) },
          verification: selfService.verificationSender,
          invitations: selfService.invitationSender,
          initialAccessTokens: config.registration
            ? async (expiresIn) => {
                const { InitialAccessToken } = ring.current();
                return new InitialAccessToken({ expiresIn }).save();
              }
            : undefined,
        }),
      ),
    }).routes();
  });
}
