import { z } from 'zod';
import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';
import { hasHiddenCharacter } from '../accounts/normalize.ts';
import { ConflictError, invalid } from '../errors/gatehouse-error.ts';
import { says } from '../errors/problems.ts';
import { enrolmentKeeper } from '../mfa/enrolment.ts';
import { mfaRequirement, type MfaPolicy } from '../mfa/policy.ts';
import { totpUri } from '../mfa/totp.ts';
import type { GatehouseServices } from '../services.ts';
import { lockKey } from '../storage/document-locks.ts';
import { usable } from '../upstream/usable.ts';
import { notFound } from './errors.ts';
import { selfContext as contextOf, selfTarget as target, type Self } from './self.ts';
import { upstreamOperations } from './upstream.ts';
import { showFactors } from './users.ts';

export const totpConfirmSchema = z.object({ code: z.string().trim().min(1).max(16) }).strict();
/** A passkey's name: shown in sentences and lists, so no control or invisible format character (a U+202E would reverse them). */
const visible = [(name: string) => !hasHiddenCharacter(name), says('hidden_character')] as const;
export const passkeyNameSchema = z.object({ name: z.string().trim().min(1).max(64).refine(...visible) }).strict();
export const passkeyAddSchema = z.object({ ticket: z.string().min(1).max(512), response: z.string().min(1).max(64 * 1024), name: z.string().trim().max(64).refine(...visible).default('') }).strict();

export interface OwnSignInMethodsDeps {
  /** The name authenticator apps show next to the account (the brand name). */
  readonly issuerName: string;
  /** An SVG QR code of a text (the otpauth:// URI). */
  readonly qrSvg: (text: string) => Promise<string>;
  /** Who must use a second factor (a runtime setting), read at each use: they keep their last one. */
  readonly mfaPolicy: () => Promise<MfaPolicy>;
  /** One-time WebAuthn challenges for adding a passkey (src/account/passkey-ticket.ts). */
  readonly tickets: {
    issue(userId: string): { readonly challenge: string; readonly ticket: string };
    open(userId: string, ticket: string): string | undefined;
  };
  /** Where the browser starts "Connect <provider>" with a one-time ticket (the routes table's link path). */
  readonly upstreamLinkUrl?: ((alias: string, ticket: string) => string) | undefined;
}

/**
 * The user's own ways to sign in on the account page — authenticator app and recovery codes,
 * passkeys, links to upstream providers — each removal refused while it would leave no way to
 * sign in or no second factor one is required to keep. Scoped to `self.user.id` like the rest
 * of own-account.ts.
 */
export function ownSignInMethods(services: GatehouseServices, deps: OwnSignInMethodsDeps) {
  const { accounts, clients, revocation, factors, passkeys, audit } = services;
  const upstream = upstreamOperations(services);
  const syncEnrolment = enrolmentKeeper({ factors, passkeys, accounts });
  /**
   * Removing a way to sign in or a second factor checks what is left, then removes: two removals
   * at once would both pass the check (the last two passkeys gone). One lock per user makes the
   * check and the removal one step (src/storage/document-locks.ts).
   */
  const removingMethod = <T>(self: Self, work: () => Promise<T>) => services.locks.hold(lockKey('sign_in_methods', self.user.id), work);

  async function factorView(userId: string) {
    // passkeys_available: false where browsers cannot make passkeys at all (an issuer on an IP address).
    return { ...showFactors(await factors.status(userId), await passkeys.list(userId)), passkeys_available: passkeys.usable };
  }

  /** Whether the user must keep a second factor: their roles or groups, or an app they granted access that has `require_mfa`. */
  async function factorRequired(self: Self): Promise<boolean> {
    const user = (await accounts.findById(self.user.id)) ?? self.user;
    if (mfaRequirement(await deps.mfaPolicy(), { amr: undefined, roles: user.roles, groups: user.groups, clientRequires: false, acrValues: undefined }) !== undefined) return true;
    for (const clientId of new Set((await revocation.listGrants(self.user.id)).map((grant) => grant.clientId))) {
      if ((await clients.get(clientId))?.metadata.require_mfa === true) return true;
    }
    return false;
  }

  /**
   * Refuses to remove the user's last second factor while one is required of them: they would
   * have to enrol again at the next sign-in anyway, and until then a password alone would do.
   * Operators can still reset factors (admin API, CLI); the next sign-in then enrols.
   */
  async function keepLastRequiredFactor(self: Self, removing: { readonly totp: true } | { readonly passkey: string }): Promise<void> {
    const totpLeft = 'totp' in removing ? 0 : (await factors.status(self.user.id)).totpSince === null ? 0 : 1;
    const passkeysLeft = (await passkeys.list(self.user.id)).filter((passkey) => !('passkey' in removing) || passkey.id !== removing.passkey).length;
    if (totpLeft + passkeysLeft > 0 || !(await factorRequired(self))) return;
    throw new ConflictError('factor_required', undefined, 'factor');
  }

  /**
   * Refuses to remove the user's last way to sign in: no password, no passkey and no upstream
   * link would be left. One rule for passkeys and upstream links; `path` names what was refused
   * (`passkey` or `upstream_link`, message `last_sign_in_method`).
   */
  async function keepLastSignInMethod(self: Self, removing: { readonly passkey: string } | { readonly upstreamLink: { readonly alias: string; readonly subject: string } }): Promise<void> {
    const user = (await accounts.findById(self.user.id)) ?? self.user;
    if (user.hasPassword) return;
    const passkeysLeft = (await passkeys.list(self.user.id)).filter((passkey) => !('passkey' in removing) || passkey.id !== removing.passkey).length;
    if (passkeysLeft > 0) return;
    const linksLeft = (await services.upstream.linksOf(self.user.id)).filter(
      (link) => !('upstreamLink' in removing) || link.provider !== removing.upstreamLink.alias || link.subject !== removing.upstreamLink.subject,
    ).length;
    if (linksLeft > 0) return;
    const path = 'passkey' in removing ? 'passkey' : 'upstream_link';
    throw new ConflictError('last_sign_in_method', undefined, path);
  }

  return {
    factors: (self: Self) => factorView(self.user.id),

    /** Starts authenticator-app enrolment: the secret, its otpauth:// URI and a QR code of it. */
    async beginTotp(self: Self) {
      if ((await factors.status(self.user.id)).totpSince !== null) throw new ConflictError('totp_exists', undefined, 'totp');
      const { secret, parameters } = await factors.beginTotp(self.user.id);
      const uri = totpUri(secret, self.user.username, deps.issuerName, parameters);
      return { secret, uri, qr_svg: await deps.qrSvg(uri), digits: parameters.digits, period: parameters.period, algorithm: parameters.algorithm };
    },

    /** Confirms enrolment with a code from the app; answers the 10 recovery codes, shown once. */
    async confirmTotp(self: Self, body: unknown) {
      const { code } = totpConfirmSchema.parse(body);
      const result = await factors.confirmTotp(self.user.id, code, self.ip);
      if (!result.ok) throw invalid('code', 'totp_code_rejected');
      await syncEnrolment(self.user.id);
      return { recovery_codes: result.recoveryCodes };
    },

    /** Removes the authenticator app and the recovery codes (passkeys stay). */
    async removeTotp(self: Self): Promise<void> {
      await removingMethod(self, async () => {
        if ((await factors.status(self.user.id)).totpSince === null) throw notFound('totp_not_found', self.user.id);
        await keepLastRequiredFactor(self, { totp: true });
        await factors.reset(self.user.id);
        await syncEnrolment(self.user.id);
      });
      await audit.write({ ...contextOf(self), type: 'mfa.removed', target: target(self), details: { method: 'totp' } });
    },

    /** Ten new recovery codes (the old ones stop working), for a user who has a second factor. */
    async regenerateRecoveryCodes(self: Self) {
      const view = await factorView(self.user.id);
      if (!view.enrolled) throw new ConflictError('recovery_codes_need_factor', undefined, 'recovery_codes');
      return { recovery_codes: await factors.regenerateRecoveryCodes(self.user.id) };
    },

    /** WebAuthn options to create a passkey, and the ticket that carries their challenge back. */
    async passkeyOptions(self: Self) {
      const { challenge, ticket } = deps.tickets.issue(self.user.id);
      return { ticket, options: await passkeys.registrationOptions({ id: self.user.id, username: self.user.username }, challenge) };
    },

    async addPasskey(self: Self, body: unknown) {
      const input = passkeyAddSchema.parse(body);
      const challenge = deps.tickets.open(self.user.id, input.ticket);
      if (challenge === undefined) throw invalid('ticket', 'passkey_ticket_expired');
      if (!(await passkeys.register(self.user.id, input.response, challenge, input.name))) {
        throw invalid('response', 'passkey_rejected');
      }
      await syncEnrolment(self.user.id);
      return factorView(self.user.id);
    },

    async renamePasskey(self: Self, passkeyId: string, body: unknown): Promise<void> {
      const { name } = passkeyNameSchema.parse(body);
      if (!(await passkeys.rename(self.user.id, passkeyId, name))) throw notFound('passkey_not_found', passkeyId);
      await audit.write({ ...contextOf(self), type: 'mfa.passkey_renamed', target: target(self), details: { passkey: passkeyId } });
    },

    /** The user's links to upstream providers, and the providers the account page may connect. */
    async upstreamLinks(self: Self) {
      const links = await services.upstream.linksOf(self.user.id);
      const providers = await services.upstream.list();
      const names = new Map(providers.map((provider) => [provider.alias, provider.display_name]));
      return {
        links: links.map((link) => ({
          provider: link.provider,
          display_name: names.get(link.provider) ?? link.provider,
          subject: link.subject,
          label: link.label,
          linked_at: link.createdAt.toISOString(),
          last_sign_in_at: link.lastSignInAt?.toISOString() ?? null,
        })),
        available:
          deps.upstreamLinkUrl === undefined
            ? []
            : providers
                .filter((provider) => usable(provider, ACCOUNT_CLIENT_ID) && !links.some((link) => link.provider === provider.alias))
                .map((provider) => ({ provider: provider.alias, display_name: provider.display_name, icon_url: provider.icon_url })),
        has_password: self.user.passwordChangedAt !== null,
      };
    },

    /** "Connect <provider>": a one-time URL that runs the upstream sign-in and links its identity to this user. */
    async startUpstreamLink(self: Self, alias: string) {
      const provider = await services.upstream.get(alias);
      if (deps.upstreamLinkUrl === undefined || !usable(provider, ACCOUNT_CLIENT_ID)) throw notFound('upstream_not_found', alias);
      const ticket = await services.upstreamLinkTickets.issue({ userId: self.user.id, provider: alias });
      return { url: deps.upstreamLinkUrl(alias, ticket) };
    },

    /** Removes a link, unless it is the user's last way to sign in (no password, no passkey, no other link). */
    async removeUpstreamLink(self: Self, alias: string, subject: string): Promise<void> {
      const links = await services.upstream.linksOf(self.user.id);
      if (!links.some((link) => link.provider === alias && link.subject === subject)) throw notFound('upstream_link_not_found', `${alias}/${subject}`);
      await removingMethod(self, async () => {
        await keepLastSignInMethod(self, { upstreamLink: { alias, subject } });
        await upstream.unlink(contextOf(self), self.user.id, alias, subject);
      });
    },

    /** Removes a passkey, unless it is the user's last way to sign in or their last required second factor. */
    async removePasskey(self: Self, passkeyId: string): Promise<void> {
      await removingMethod(self, async () => {
        if ((await passkeys.list(self.user.id)).some((passkey) => passkey.id === passkeyId)) {
          await keepLastSignInMethod(self, { passkey: passkeyId });
          await keepLastRequiredFactor(self, { passkey: passkeyId });
        }
        if (!(await passkeys.remove(self.user.id, passkeyId))) throw notFound('passkey_not_found', passkeyId);
        await syncEnrolment(self.user.id);
      });
      await audit.write({ ...contextOf(self), type: 'mfa.removed', target: target(self), details: { method: 'passkey', passkey: passkeyId } });
    },
  };
}
