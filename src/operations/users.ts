import { z } from 'zod';
import { says } from '../errors/problems.ts';
import type { User } from '../accounts/accounts.ts';
import type { ChangedBy } from '../accounts/email-change-notice.ts';
import type { InvitationSender } from '../accounts/invitations.ts';
import type { PendingLink, ReturnTo } from '../accounts/password-resets.ts';
import type { ClientView } from '../clients/repository.ts';
import { invalid } from '../errors/gatehouse-error.ts';
import { addressKey, hasHiddenCharacter } from '../accounts/normalize.ts';
import { labelName } from '../roles/label-name.ts';
import { PROFILE_ATTRIBUTE_NAMES, profileAttributesInput, type ProfileAttributesPatch } from '../accounts/profile-attributes.ts';
import { isRequiredAction, REQUIRED_ACTIONS, type RequiredAction } from '../accounts/required-actions.ts';
import { shortened } from '../accounts/shortened.ts';
import { customAttributesInput, customAttributesPatchInput } from '../accounts/custom-attributes.ts';
import type { FactorStatus } from '../mfa/factors.ts';
import { enrolmentKeeper } from '../mfa/enrolment.ts';
import type { PasskeyView } from '../mfa/passkeys.ts';
import type { GatehouseServices } from '../services.ts';
import type { OperationContext } from './context.ts';
import { notFound, OperationError } from './errors.ts';
import { userDeletion } from './user-deletion.ts';
import { lastAdminGuard } from './last-admin.ts';
import { ADMIN_ROLE } from '../oidc/admin-scope.ts';

/** Account mail, where SMTP is configured (src/composition/account-mail.ts; the server and the CLI alike). */
export interface VerificationSender {
  /** A link that confirms the user's current address; `by` says who asked for it (the mail says so). */
  send(userId: string, by: ChangedBy): Promise<'sent' | 'no_email' | 'already_verified' | 'no_mail' | 'unknown_user'>;
  /** Tells the previous address that the user's address changed or was removed (src/accounts/email-change-notice.ts). */
  emailChanged?(user: User, previousEmail: string, by: ChangedBy): Promise<void>;
}

// A role or group named here is created if new (roles.ensure): the names' one rule (src/roles/label-name.ts) holds.
const label = labelName;
// The names (OpenID standard claims) read like the other profile texts: no hidden character (src/accounts/profile-attributes.ts).
const optionalText = z.string().max(256).refine((value) => !hasHiddenCharacter(value), says('hidden_character')).nullable().optional();

/** What the user must do at their next sign-in (src/accounts/required-actions.ts): a bad name is refused by name. */
const requiredActionsField = z
  .array(
    z.string().superRefine((value, ctx) => {
      if (!isRequiredAction(value)) ctx.addIssue({ code: 'custom', ...says('unknown_required_action', { value: shortened(value, 64), values: REQUIRED_ACTIONS.join(', ') }) });
    }),
  )
  .max(REQUIRED_ACTIONS.length * 2)
  .transform((values) => values as RequiredAction[]);

/** The profile an operator sets on create and update alike. */
const profileFields = {
  email: z.string().max(254).nullable().optional(),
  email_verified: z.boolean().optional(),
  given_name: optionalText,
  family_name: optionalText,
  name: optionalText,
  ...profileAttributesInput,
};

export const userCreateSchema = z
  .object({
    username: z.string().min(1).max(64),
    // Left out: the user has no password (a passkey or an upstream sign-in), until one is set.
    password: z.string().min(1).optional(),
    ...profileFields,
    roles: z.array(label).default([]),
    groups: z.array(label).default([]),
    required_actions: requiredActionsField.optional(),
    attributes: customAttributesInput.optional(),
    /** Mail the new user an invitation to set their own password (then no password is given). */
    invite: z.boolean().optional(),
  })
  .strict();

/** An operator's invitation (POST /users/{id}/invitation): where it leads back to, and how long it works. */
export const invitationSchema = z
  .object({
    client_id: z.string().min(1).max(256).optional(),
    redirect_uri: z.string().min(1).max(2048).optional(),
    /** Instead of the configured `invitation_ttl`. */
    lifetime_seconds: z.number().int().min(60).max(2_592_000).optional(),
  })
  .strict();

/** Whether `redirectUri` is exactly one of the client's registered redirect URIs (as Keycloak's execute-actions-email checks it). */
export function registersRedirect(client: Pick<ClientView, 'metadata'> | undefined, redirectUri: string): boolean {
  const registered = client?.metadata.redirect_uris;
  return Array.isArray(registered) && registered.includes(redirectUri);
}

/** The fields a user update may name (the account page picks its own from these). */
export const userPatchFields = z
  .object({
    ...profileFields,
    roles: z.array(label).optional(),
    groups: z.array(label).optional(),
    /** Replaces the user's required actions (an empty list clears them). */
    required_actions: requiredActionsField.optional(),
    attributes: customAttributesPatchInput.optional(),
  })
  .strict();

/** An operator's update: as for clients, one naming no field is refused, not audited as an update of nothing. */
export const userUpdateSchema = userPatchFields
  .refine((patch) => Object.keys(patch).length > 0, { ...says('nothing_to_change'), when: (payload) => payload.issues.length === 0 })
  .meta({ minProperties: 1 });

/** `temporary`: the user must choose another at their next sign-in (adds `update_password`; without it, a pending one is lifted). */
export const passwordSchema = z.object({ password: z.string().min(1), temporary: z.boolean().optional() }).strict();

export const userSearchSchema = z.object({
  q: z.string().max(256).optional(),
  role: label.optional(),
  group: label.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** The standard-claim attributes of an operation's input, as the account layer takes them. */
function attributesOf(input: ProfileAttributesPatch): ProfileAttributesPatch {
  return Object.fromEntries(PROFILE_ATTRIBUTE_NAMES.filter((name) => input[name] !== undefined).map((name) => [name, input[name]]));
}

export function showUser(user: User) {
  const { attributes } = user;
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    email_verified: user.emailVerified,
    given_name: user.givenName,
    family_name: user.familyName,
    name: user.name,
    middle_name: attributes.middle_name ?? null,
    nickname: attributes.nickname ?? null,
    profile: attributes.profile ?? null,
    picture: attributes.picture ?? null,
    website: attributes.website ?? null,
    gender: attributes.gender ?? null,
    birthdate: attributes.birthdate ?? null,
    zoneinfo: attributes.zoneinfo ?? null,
    locale: attributes.locale ?? null,
    phone_number: attributes.phone_number ?? null,
    phone_number_verified: attributes.phone_number_verified === true,
    address: attributes.address ?? null,
    roles: [...user.roles],
    groups: [...user.groups],
    attributes: { ...user.customAttributes },
    disabled: user.disabled,
    required_actions: [...user.requiredActions],
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
    last_login_at: user.lastLoginAt?.toISOString() ?? null,
    // The Keycloak realm an import created the user from ({kind, realm}); null for a user made here.
    imported_from: user.importedFrom === undefined ? null : { kind: user.importedFrom.kind, realm: user.importedFrom.realm },
  };
}

/** A page of users and how many match in all (GET /users, `users list --json`). */
export function showUserPage(page: { readonly users: readonly User[]; readonly total: number }) {
  return { users: page.users.map(showUser), total: page.total };
}

/** A user's second factors as operators see them (never a secret or a code). */
export function showFactors(status: FactorStatus, passkeys: readonly PasskeyView[]) {
  return {
    enrolled: status.enrolled || passkeys.length > 0,
    totp: status.totpSince === null ? null : { enrolled_at: status.totpSince.toISOString() },
    passkeys: passkeys.map((p) => ({ id: p.id, name: p.name, created_at: p.createdAt.toISOString(), last_used_at: p.lastUsedAt?.toISOString() ?? null })),
    recovery_codes_left: status.recoveryCodesLeft,
  };
}

/** A user's pending invitation as the admin API shows it (GET /users/{id}/invitation). */
export function showInvitation(pending: PendingLink | undefined) {
  if (pending === undefined) return { pending: false as const };
  return {
    pending: true as const,
    sent_at: pending.sentAt?.toISOString() ?? null,
    expires_at: pending.expiresAt.toISOString(),
    client_id: pending.returnTo?.clientId ?? null,
    redirect_uri: pending.returnTo?.redirectUri ?? null,
  };
}

export function userOperations(services: GatehouseServices, verification?: VerificationSender, invitations?: InvitationSender) {
  const { accounts, users, roles, groups, audit, revocation, factors, passkeys } = services;
  // Read and revoked whether or not mail can go out now (a link sent earlier still works).
  const sentInvitations = services.invitations;
  const target = (id: string) => ({ type: 'user', id });
  const syncEnrolment = enrolmentKeeper({ factors, passkeys, accounts });
  const lastAdmin = lastAdminGuard(services);

  /** Whether the user changed their own account (the account page) or an operator did (admin API, console, CLI). */
  const changedBy = (ctx: OperationContext, user: User): ChangedBy => (ctx.actor.type === 'user' && ctx.actor.id === user.id ? 'self' : 'operator');

  /** A new or changed, unverified address gets a link; a failure to send never fails the operation. */
  async function offerVerification(ctx: OperationContext, user: User): Promise<void> {
    if (verification === undefined || user.email === null || user.emailVerified) return;
    await verification.send(user.id, changedBy(ctx, user)).catch(() => undefined);
  }

  /** The notice to the address a user had; whether it was sent (a failure never fails the change). */
  async function tellPreviousAddress(ctx: OperationContext, user: User, previousEmail: string): Promise<boolean> {
    if (verification?.emailChanged === undefined) return false;
    return verification.emailChanged(user, previousEmail, changedBy(ctx, user)).then(
      () => true,
      () => false,
    );
  }

  /** The application an invitation leads back to: both named, the client's own redirect URI exactly (400 naming the field). */
  async function returnToOf(input: z.infer<typeof invitationSchema>): Promise<ReturnTo | undefined> {
    const { client_id: clientId, redirect_uri: redirectUri } = input;
    if (clientId === undefined && redirectUri === undefined) return undefined;
    if (clientId === undefined) throw invalid('client_id', 'required');
    if (redirectUri === undefined) throw invalid('redirect_uri', 'required');
    const client = await services.clients.get(clientId);
    if (client === undefined) throw invalid('client_id', 'unknown_client', { client_id: clientId });
    if (!registersRedirect(client, redirectUri)) throw invalid('redirect_uri', 'redirect_uri_not_registered', { client_id: clientId });
    return { clientId, redirectUri };
  }

  /** Mails the invitation and audits it; 409 without SMTP, an address or an enabled user. */
  async function sendInvitation(ctx: OperationContext, id: string, input: z.infer<typeof invitationSchema>) {
    const returnTo = await returnToOf(input);
    if (invitations === undefined) throw new OperationError(409, 'mail_not_configured');
    const outcome = await invitations.send(id, { ttlSeconds: input.lifetime_seconds, returnTo });
    if (outcome.kind === 'unknown_user') throw notFound('user_not_found', id);
    if (outcome.kind === 'no_email') throw new OperationError(409, 'user_no_email');
    if (outcome.kind === 'disabled') throw new OperationError(409, 'user_disabled');
    await audit.write({ ...ctx, type: 'user.invited', target: target(id), details: { expiresInSeconds: outcome.expiresInSeconds, clientId: returnTo?.clientId ?? null, redirectUri: returnTo?.redirectUri ?? null } });
    return { sent: true as const, expires_in: outcome.expiresInSeconds };
  }

  /** An operator set the user's required actions: `actions` are all they have now. */
  async function auditRequiredActions(ctx: OperationContext, id: string, actions: readonly RequiredAction[]): Promise<void> {
    await audit.write({ ...ctx, type: 'user.required_actions_set', target: target(id), details: { actions: [...actions] } });
  }

  async function get(id: string): Promise<User> {
    const user = await accounts.findById(id);
    if (user === undefined) throw notFound('user_not_found', id);
    return users.withLastSignIn(user);
  }

  return {
    get,
    /** A user named by id, username or email (operators rarely know the id). */
    async resolve(ref: string): Promise<User> {
      const user = (await accounts.findById(ref)) ?? (await accounts.findByLogin(ref));
      if (user === undefined) throw notFound('user_not_found', ref);
      return users.withLastSignIn(user);
    },
    async create(ctx: OperationContext, body: unknown) {
      const input = userCreateSchema.parse(body);
      // An invited user chooses their own password: refused before anything is created.
      if (input.invite === true) {
        if (input.password !== undefined) throw invalid('password', 'invite_with_password');
        if (input.email === undefined || input.email === null || input.email.trim() === '') throw invalid('email', 'invite_needs_email');
        if (invitations === undefined) throw new OperationError(409, 'mail_not_configured');
      }
      const user = await accounts.createUser({
        username: input.username,
        password: input.password,
        email: input.email,
        emailVerified: input.email_verified,
        givenName: input.given_name,
        familyName: input.family_name,
        name: input.name,
        attributes: attributesOf(input),
        customAttributes: input.attributes,
        roles: input.roles,
        groups: input.groups,
        requiredActions: input.required_actions,
      });
      await roles.ensure(user.roles);
      await groups.ensure(user.groups);
      await audit.write({ ...ctx, type: 'user.created', target: target(user.id), details: { username: user.username, roles: user.roles } });
      if (user.requiredActions.length > 0) await auditRequiredActions(ctx, user.id, user.requiredActions);
      // The invitation's link confirms the address too: no separate confirmation mail.
      if (input.invite === true) await sendInvitation(ctx, user.id, {});
      else await offerVerification(ctx, user);
      return user;
    },

    async search(query: unknown) {
      const parsed = userSearchSchema.parse(query);
      return users.search({ query: parsed.q, role: parsed.role, group: parsed.group, limit: parsed.limit, offset: parsed.offset });
    },

    async update(ctx: OperationContext, id: string, body: unknown) {
      const patch = userUpdateSchema.parse(body);
      const previousEmail = patch.email === undefined ? undefined : ((await accounts.findById(id))?.email ?? null);
      const write = () => users.update(id, {
        email: patch.email,
        emailVerified: patch.email_verified,
        givenName: patch.given_name,
        familyName: patch.family_name,
        name: patch.name,
        attributes: attributesOf(patch),
        customAttributes: patch.attributes,
        roles: patch.roles,
        groups: patch.groups,
        requiredActions: patch.required_actions,
      });
      // Roles without `admin`: refused for the last enabled admin (409 last_admin, src/operations/last-admin.ts).
      const user = patch.roles !== undefined && !patch.roles.includes(ADMIN_ROLE) ? await lastAdmin.removing(id, write) : await write();
      if (patch.roles !== undefined) await roles.ensure(patch.roles);
      if (patch.groups !== undefined) await groups.ensure(patch.groups);
      // The address it already had (compared as the accounts compare them) is no change: no link, no notice.
      const emailChanged = previousEmail !== undefined && addressKey(previousEmail) !== addressKey(user.email);
      // A new address stands (an operator's, or the user's own removal): a change the user asked for
      // and has not confirmed ends, its link would overwrite it. The same address again (the account
      // page's form sends it with any other field) leaves a pending change alone.
      if (emailChanged) await services.userRecords.endPendingEmailChange(id);
      const previousEmailNotified = emailChanged && previousEmail !== null ? await tellPreviousAddress(ctx, user, previousEmail) : undefined;
      const fields = Object.keys(patch).filter((field) => field !== 'email' || emailChanged);
      await audit.write({ ...ctx, type: 'user.updated', target: target(id), details: { fields, ...(previousEmailNotified === undefined ? {} : { previousEmailNotified }) } });
      if (emailChanged) await offerVerification(ctx, user);
      if (patch.required_actions !== undefined) await auditRequiredActions(ctx, id, user.requiredActions);
      return user;
    },

    /**
     * Sets the password. A temporary one must be changed at the next sign-in (adds
     * `update_password`); an ordinary one lifts a pending `update_password`, as Keycloak does.
     */
    async setPassword(ctx: OperationContext, id: string, body: unknown) {
      const { password, temporary = false } = passwordSchema.parse(body);
      await accounts.setPassword(id, password);
      await audit.write({ ...ctx, type: 'user.password_set', target: target(id), details: { temporary } });
      if (temporary) await auditRequiredActions(ctx, id, await accounts.addRequiredActions(id, ['update_password']));
      else if (await accounts.completeRequiredAction(id, 'update_password')) await auditRequiredActions(ctx, id, (await get(id)).requiredActions);
    },

    /** Disables the user and revokes their sessions, grants and tokens at once. */
    async disable(ctx: OperationContext, id: string) {
      await lastAdmin.removing(id, () => accounts.disable(id));
      const revoked = await revocation.revokeByAccountId(id);
      await audit.write({ ...ctx, type: 'user.disabled', target: target(id), details: { revoked } });
    },

    async enable(ctx: OperationContext, id: string) {
      await accounts.enable(id);
      await audit.write({ ...ctx, type: 'user.enabled', target: target(id) });
    },

    /** Emails the user a new link to confirm their address (the previous one stops working). */
    async sendVerification(id: string): Promise<void> {
      await get(id);
      const outcome = verification === undefined ? 'no_mail' : await verification.send(id, 'operator');
      if (outcome === 'no_email') throw new OperationError(409, 'user_no_email');
      if (outcome === 'already_verified') throw new OperationError(409, 'email_already_verified');
      if (outcome === 'no_mail') throw new OperationError(409, 'mail_not_configured');
      if (outcome === 'unknown_user') {
        // The sender's answer for a disabled user and for one deleted since `get` read them: read again to tell them apart.
        if ((await accounts.findById(id)) === undefined) throw notFound('user_not_found', id);
        throw new OperationError(409, 'user_disabled');
      }
    },

    /** Mails the user a link to set their password (the previous invitation stops working); POST /users/{id}/invitation. */
    async invite(ctx: OperationContext, id: string, body: unknown) {
      const input = invitationSchema.parse(body ?? {});
      await get(id);
      return sendInvitation(ctx, id, input);
    },

    /** The user's invitation that still works, if any (GET /users/{id}/invitation). */
    async invitation(id: string) {
      await get(id);
      return showInvitation(await sentInvitations.pending(id));
    },

    /** Ends the user's invitation link (DELETE /users/{id}/invitation); 404 when none still works. */
    async revokeInvitation(ctx: OperationContext, id: string): Promise<void> {
      await get(id);
      if (!(await sentInvitations.revoke(id))) throw notFound('invitation_not_found', id);
      await audit.write({ ...ctx, type: 'user.invitation_revoked', target: target(id) });
    },

    async unlock(ctx: OperationContext, id: string) {
      const lifted = await accounts.unlock(id);
      await audit.write({ ...ctx, type: 'user.unlocked', target: target(id), details: { lifted } });
      return lifted;
    },

    factors: async (id: string) => {
      await get(id);
      return showFactors(await factors.status(id), await passkeys.list(id));
    },

    /** Removes the user's authenticator app and recovery codes: their next sign-in enrols again if a policy requires it. */
    async resetFactors(ctx: OperationContext, id: string) {
      await get(id);
      const removedPasskeys = await passkeys.removeAll(id);
      const removed = (await factors.reset(id)) || removedPasskeys > 0;
      await syncEnrolment(id);
      await audit.write({ ...ctx, type: 'user.mfa_reset', target: target(id), details: { removed, passkeys: removedPasskeys } });
      return removed;
    },

    /** Removes one passkey (a lost security key); the user's other factors stay. */
    async removePasskey(ctx: OperationContext, id: string, passkeyId: string) {
      await get(id);
      if (!(await passkeys.remove(id, passkeyId))) throw notFound('passkey_not_found', passkeyId);
      await syncEnrolment(id);
      await audit.write({ ...ctx, type: 'user.passkey_removed', target: target(id), details: { passkey: passkeyId } });
    },

    /** Deletes the user for good: sessions, grants, tokens, factors, links, consents and the user itself (src/operations/user-deletion.ts). */
    delete: userDeletion(services),

    async revokeAll(ctx: OperationContext, id: string) {
      await get(id);
      const revoked = await revocation.revokeByAccountId(id);
      await audit.write({ ...ctx, type: 'user.tokens_revoked', target: target(id), details: { revoked } });
      return revoked;
    },
  };
}

export type UserOperations = ReturnType<typeof userOperations>;
