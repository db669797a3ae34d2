import type Router from '@koa/router';
import { deriveKey } from '../crypto/secret-box.ts';
import { interactionRoutes } from '../interactions/routes.ts';
import { signInSteps } from '../interactions/steps/index.ts';
import type { LoginExtension } from '../interactions/steps/password.ts';
import type { SignInStep } from '../interactions/steps/step.ts';
import type { Views } from '../interactions/views.ts';
import { enrolmentKeeper } from '../mfa/enrolment.ts';
import { emailConfirmation } from '../interactions/steps/verify-email.ts';
import { totpEnrolmentPages } from '../interactions/steps/totp-enrolment.ts';
import { profileOf } from '../oidc/accounts.ts';
import { endpointPath } from '../routes/table.ts';
import type { SelfService } from './self-service.ts';
import type { Wiring } from './wiring.ts';

/**
 * An SVG QR code (authenticator-app enrolment on the hosted pages and the account page); the QR
 * library loads at the first enrolment, not at the start (docs/PERFORMANCE.md, perf23h).
 */
export const qrSvg = async (text: string): Promise<string> => (await import('qrcode')).default.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });

/** The sign-in steps (password with its extensions, email confirmation, second factor, a test's extras, consent). */
export function composeSignInSteps(w: Wiring, { selfService, loginExtension }: { selfService: SelfService; loginExtension: LoginExtension }): SignInStep[] {
  const { config, core, secret } = w;
  const { accountLayer, services } = core;
  const { accounts } = accountLayer;
  const syncEnrolment = enrolmentKeeper({ factors: services.factors, passkeys: services.passkeys, accounts });
  const accountLabel = async (id: string) => (await accounts.findById(id))?.username ?? id;
  const totp = { factors: services.factors, issuerName: config.pages.brandName, accountLabel, qrSvg };
  return signInSteps(
    {
      loginExtension,
      authenticator: {
        // Throws HashQueueFullError when the hashing pool is saturated (the page answers 503).
        async authenticate(login, password, ip, clientId) {
          // The tokens that follow need the user's claims: keep what this read found (one read per sign-in, not two).
          const signingIn = core.accountCache.signingIn();
          try {
            const result = await accounts.authenticate(login, password, ip, clientId);
            if (!result.ok) return { ok: false };
            signingIn.signedIn(profileOf(result.user));
            return { ok: true, sub: result.user.id };
          } finally {
            signingIn.end();
          }
        },
        // The user now types a password: start a hashing worker if none is idle (they exit when idle).
        prepare: () => accountLayer.hasher.warmUp(),
        isActive: (id) => accounts.isActive(id),
        recordSignIn: (id) => accounts.recordSignIn(id),
      },
      signedIn: {
        async name(sub) {
          const user = await accounts.findById(sub);
          if (user === undefined) return undefined;
          return user.name !== undefined && user.name !== null && user.name !== '' && user.name !== user.username ? `${user.name} (${user.username})` : user.username;
        },
        signOutPath: endpointPath(config.routes, 'end_session'),
      },
      consents: services.consents,
      apiNames: { name: async (identifier) => (await services.apis.find(identifier))?.name, adminAudience: services.adminAudience },
      scopeDescriptions: {
        describe: (scope, locale) => {
          const found = services.claimScopes.current().find((candidate) => candidate.name === scope);
          return found?.description[locale as keyof typeof found.description] ?? found?.description.en;
        },
      },
      forgotPasswordPath: selfService.forgotPasswordPath,
      registration: selfService.registration,
      verifyEmail: selfService.verifyEmail,
      secondFactor: {
        passkeys: services.passkeys,
        challengeKey: deriveKey(secret, 'passkey-challenges'),
        syncEnrolment,
        ...totp,
        policy: services.runtimeSettings.mfaPolicyNow,
      },
      requiredActions: {
        accounts,
        updateNames: async (id, names) => void (await services.users.update(id, names)),
        passwordPolicy: services.runtimeSettings.passwordPolicyNow,
        async signOutOthers(userId, keepSessionUid) {
          let signedOut = 0;
          for (const session of await services.revocation.listSessions(userId)) {
            if (keepSessionUid !== undefined && session.uid === keepSessionUid) continue;
            if (await services.revocation.revokeSession(userId, session.id)) signedOut += 1;
          }
          return signedOut;
        },
        hasAuthenticatorApp: async (userId) => (await services.factors.status(userId)).totpSince !== null,
        syncEnrolment,
        totp: totpEnrolmentPages(totp),
        emailConfirmation: { ...emailConfirmation(selfService.verifyEmail), available: selfService.verifyEmail.verification.available },
        audit: core.audit,
      },
    },
    w.options.extraSteps,
  );
}

/** The hosted sign-in pages: `/interaction/:uid/*` for the steps, plus the upstream providers' routes. */
export function signInRoutes(w: Wiring, { steps, views, extraRoutes }: { steps: SignInStep[]; views: Views; extraRoutes: readonly Router[] }): Router {
  return interactionRoutes({
    provider: w.provider,
    steps,
    views,
    logger: w.logger,
    secureCookies: w.https,
    paths: w.config.routes,
    extraRoutes,
    // A finished step answers with the resume's answer (src/interactions/resume-here.ts).
    resumeHere: { resumePath: (uid) => `${endpointPath(w.config.routes, 'authorization')}/${uid}`, handOff: w.core.storage.adapter.handOffInteraction },
  });
}
