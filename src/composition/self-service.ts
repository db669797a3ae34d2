import { dateClock } from '../clock.ts';
import Router from '@koa/router';
import type { EmailVerification } from '../accounts/email-verification.ts';
import { openEmailVerifications } from '../accounts/email-verifications.ts';
import type { PasswordPolicy } from '../accounts/password-policy.ts';
import { openPasswordResets } from '../accounts/password-resets.ts';
import type { InvitationSender } from '../accounts/invitations.ts';
import { invitationRoutes } from '../interactions/invitation-routes.ts';
import { registersRedirect } from '../operations/users.ts';
import { createSelfRegistration } from '../accounts/self-registration.ts';
import { deriveKey } from '../crypto/secret-box.ts';
import { emailVerificationRoutes } from '../interactions/email-verification-routes.ts';
import type { Locale } from '../interactions/i18n.ts';
import { interactionPath } from '../routes/table.ts';
import { passwordResetRoutes } from '../interactions/password-reset-routes.ts';
import { registration, type RegistrationPart } from '../interactions/steps/registration.ts';
import type { VerifyEmailDeps } from '../interactions/steps/verify-email.ts';
import type { Views } from '../interactions/views.ts';
import type { MailService } from '../mail/mail-service.ts';
import type { VerificationSender } from '../operations/users.ts';
import type { GatehouseServices } from '../services.ts';
import type { AttemptLimiter } from '../limits/attempt-limits.ts';
import type { Limits } from './limits.ts';
import type { PendingEmailChanges } from '../operations/own-email-change.ts';
import { accountMail, addressVerification, emailChanges, invitationMail } from './account-mail.ts';
import type { Wiring } from './wiring.ts';

/** Reset emails per address and hour, and per typed login (known or not) and hour. */
const PASSWORD_RESET_IP_LIMIT = 20;
const PASSWORD_RESET_LOGIN_LIMIT = 3;
const PASSWORD_RESET_WINDOW = 3600;
/** Registrations per address and hour, emails per registering address and hour, resent links per user and hour. */
const REGISTRATION_IP_LIMIT = 10;
const REGISTRATION_EMAIL_LIMIT = 3;
const VERIFICATION_RESEND_LIMIT = 5;
/** Email address changes per user and hour on the account page: a taken address is refused by name. */
const EMAIL_CHANGES_PER_HOUR = 5;

export interface SelfService {
  /** The password policy in force (a runtime setting, src/settings/), read at each use. */
  readonly passwordPolicy: () => Promise<PasswordPolicy>;
  /** Sends a user the confirmation link in their own language; undefined without SMTP (admin API, account page). */
  readonly verificationSender: VerificationSender | undefined;
  /** Mails a user an invitation to set their password; undefined without SMTP (admin API, console). */
  readonly invitationSender: InvitationSender | undefined;
  readonly pendingEmailChanges: PendingEmailChanges | undefined;
  /** Whether email can be sent (GATEHOUSE_SMTP_URL). */
  readonly mailConfigured: boolean;
  /** The runtime sign-in & self-service settings (src/settings/), read at each use. */
  readonly signIn: () => ReturnType<GatehouseServices['signInSettings']['current']>;
  /** Email confirmation: links, tokens, whether it can send. */
  readonly verification: EmailVerification<Locale>;
  /** Email address changes per user and hour on the account page (src/operations/own-account.ts). */
  readonly emailChanges: AttemptLimiter;
  /** "Send the link again" of a pending address change, per user and hour (as the sign-in's resent confirmation links). */
  readonly emailChangeResends: AttemptLimiter;
  /** The "Forgot password?" link while password reset is on. */
  readonly forgotPasswordPath: () => Promise<string | undefined>;
  /** Registration from the sign-in page (a runtime setting), a part of the password step. */
  readonly registration: RegistrationPart;
  /** The step that stops an unconfirmed address (GATEHOUSE_REQUIRE_VERIFIED_EMAIL). */
  readonly verifyEmail: VerifyEmailDeps;
  /** The forgot / reset pages and the emailed confirmation link, outside any interaction. */
  readonly routes: Router;
}

/** Password reset, email confirmation and self-registration: their token stores, services, pages and limits. */
export async function composeSelfService(w: Wiring, { views, mail, limits }: { views: Views; mail: MailService<Locale> | undefined; limits: Limits }): Promise<SelfService> {
  const { config, core, clock, logger, https, publicOrigin, secret } = w;
  const { mongo } = core.stores;
  const { audit, services } = core;
  const { accounts, hasher } = core.accountLayer;
  const { attempts } = limits;
  // Sign-in and self-service settings are read at each use (cached per instance, src/settings/).
  const signIn = () => services.signInSettings.current();
  const resets = await openPasswordResets({ mongo, holder: (userId) => accounts.findById(userId), ttlSeconds: async () => (await signIn()).password_reset_ttl, now: clock.now });
  const verificationTtl = async () => (await signIn()).email_verification_ttl;
  const passwordPolicy = services.runtimeSettings.passwordPolicyNow;
  const verifications = await openEmailVerifications({ mongo, ttlSeconds: verificationTtl, now: clock.now });
  const auditSelfService = (type: 'user.registered' | 'user.registration_existing_email' | 'user.email_verification_sent' | 'user.email_verified', userId: string | null) =>
    audit.record({
      type,
      actor: type === 'user.registration_existing_email' || userId === null ? { type: 'anonymous', id: null } : { type: 'user', id: userId },
      target: userId === null ? null : { type: 'user', id: userId },
    });
  const selfRegistration =
    mail !== undefined
      ? createSelfRegistration<Locale>({
          accounts,
          hasher,
          verifications,
          mail,
          links: {
            verify: `${publicOrigin}${config.routes.email}/verify`,
            forgotPassword: async () => ((await signIn()).password_reset ? `${publicOrigin}${config.routes.password}/forgot` : undefined),
          },
          ttlSeconds: verificationTtl,
          verifyFirst: async () => (await signIn()).require_verified_email !== 'off',
          onEvent: (event) => auditSelfService(event.type, event.userId),
        })
      : undefined;
  const changes = mail === undefined ? undefined : emailChanges({ accounts, users: services.users, views, verifications, mail, now: dateClock(clock) });
  const verification = addressVerification({
    config,
    services,
    accounts,
    audit,
    verifications,
    mail,
    ...(selfRegistration === undefined ? {} : { completeRegistration: selfRegistration.complete }),
    ...(changes === undefined ? {} : { changeEmail: changes.make, emailChanged: changes.notice }),
  });
  // The account page's own address changes wait for the link (src/operations/own-email-change.ts).
  const pendingEmailChanges = changes?.pending(verification);

  // Admin API, console and account page (and the CLI, src/cli/services.ts) alike.
  const verificationSender = mail === undefined ? undefined : accountMail({ accounts, views, verification, mail, now: dateClock(clock) });
  const { invitations, sender: invitationSenderOf } = await invitationMail({ config, services, accounts, views, mongo, mail, now: clock.now });
  const revokeAll = async (userId: string) => void (await services.revocation.revokeByAccountId(userId));
  const secondFactor = { factors: services.factors, passkeys: services.passkeys, challengeKey: deriveKey(secret, 'passkey-challenges') };

  // Invitations first: the reset pages' "reset is off" answer (their router's middleware) must not reach them.
  const routes = new Router().use(
    invitationRoutes({
      views,
      logger,
      secureCookies: https,
      path: config.routes.password,
      accounts,
      invitations,
      policy: passwordPolicy,
      secondFactor,
      revokeAll,
      // The password the invitation set is the one an operator's update_password asked for (verify_email goes with verifyEmail).
      accepted: async (userId) => {
        if (!(await accounts.completeRequiredAction(userId, 'update_password'))) return;
        audit.record({ type: 'user.required_action_completed', actor: { type: 'user', id: userId }, target: { type: 'user', id: userId }, details: { action: 'update_password', by: 'invitation' } });
      },
      // Checked again when it is used: a client changed or deleted since the mail leads nowhere.
      returnLink: async ({ clientId, redirectUri }) => {
        const client = await services.clients.get(clientId);
        return client !== undefined && registersRedirect(client, redirectUri) ? { href: redirectUri, name: client.displayName || clientId } : undefined;
      },
      accountPage: `${config.routes.account}/`,
      audit: (event, ip) =>
        audit.record({ type: event.type, actor: { type: 'user', id: event.userId }, target: { type: 'user', id: event.userId }, ip, details: { secondFactor: event.secondFactor, emailVerified: event.emailVerified, lockoutsCleared: event.lockoutsCleared, clientId: event.clientId } }),
    }).routes(),
    passwordResetRoutes({
      views,
      logger,
      secureCookies: https,
      path: config.routes.password,
      publicBase: `${publicOrigin}${config.routes.password}`,
      accounts,
      resets,
      settings: async () => {
        const settings = await signIn();
        return { enabled: settings.password_reset, ttlSeconds: settings.password_reset_ttl };
      },
      policy: passwordPolicy,
      mail,
      limits: {
        ip: attempts.limiter('password_reset_ip', PASSWORD_RESET_IP_LIMIT, PASSWORD_RESET_WINDOW),
        login: attempts.limiter('password_reset_login', PASSWORD_RESET_LOGIN_LIMIT, PASSWORD_RESET_WINDOW),
      },
      revokeAll,
      secondFactor,
      accountPage: `${config.routes.account}/`,
      signInPage: (uid) => interactionPath(config.routes, uid),
      audit: (event, ip) =>
        audit.record(
          event.type === 'user.password_reset'
            ? { type: event.type, actor: { type: 'user', id: event.userId }, target: { type: 'user', id: event.userId }, ip, details: { secondFactor: event.secondFactor, lockoutsCleared: event.lockoutsCleared } }
            : { type: event.type, actor: { type: 'anonymous', id: null }, target: { type: 'user', id: event.userId }, ip },
        ),
    }).routes(),
    emailVerificationRoutes({ views, logger, secureCookies: https, path: config.routes.email, verification, accountPage: `${config.routes.account}/` }).routes(),
  );

  return {
    passwordPolicy,
    verificationSender,
    invitationSender: invitationSenderOf,
    pendingEmailChanges,
    mailConfigured: mail !== undefined,
    emailChanges: attempts.limiter('email_change', EMAIL_CHANGES_PER_HOUR, PASSWORD_RESET_WINDOW),
    emailChangeResends: attempts.limiter('email_change_resend', VERIFICATION_RESEND_LIMIT, PASSWORD_RESET_WINDOW),
    signIn,
    verification,
    forgotPasswordPath: async () => ((await signIn()).password_reset ? `${config.routes.password}/forgot` : undefined),
    registration: registration({
      register: selfRegistration?.register,
      policy: passwordPolicy,
      settings: async () => {
        const settings = await signIn();
        return { enabled: settings.self_registration, domains: settings.self_registration_domains };
      },
      limits: {
        ip: attempts.limiter('registration_ip', REGISTRATION_IP_LIMIT, PASSWORD_RESET_WINDOW),
        email: attempts.limiter('registration_email', REGISTRATION_EMAIL_LIMIT, PASSWORD_RESET_WINDOW),
      },
      interactionPath: config.routes.interaction,
      onError: (error) => logger.error({ err: error }, 'self-registration not completed'),
    }),
    verifyEmail: {
      rule: async () => (await signIn()).require_verified_email,
      verification,
      accounts,
      resends: attempts.limiter('email_verification_resend', VERIFICATION_RESEND_LIMIT, PASSWORD_RESET_WINDOW),
      interactionPath: config.routes.interaction,
    },
    routes,
  };
}
