import { z } from 'zod';
import type { AuditTrail } from '../observability/audit-trail.ts';
import { initialAccessTokenId } from '../oidc/registration-audit.ts';
import type { OperationContext } from './context.ts';
import { OperationError } from './errors.ts';

export const initialAccessTokenSchema = z.object({ expires_in: z.number().int().min(60).max(30 * 86_400).default(86_400) }).strict();

/** Creates an initial access token (through the running provider); undefined where registration is off or no provider runs. */
export type InitialAccessTokenIssuer = ((expiresIn: number) => Promise<string>) | undefined;

/** Dynamic client registration: initial access tokens (RFC 7591 §3). */
export function registrationOperations(issue: InitialAccessTokenIssuer, audit: AuditTrail) {
  return {
    async createInitialAccessToken(ctx: OperationContext, body: unknown) {
      if (issue === undefined) throw new OperationError(400, 'registration_off');
      const expiresIn = initialAccessTokenSchema.parse(body).expires_in;
      const token = await issue(expiresIn);
      await audit.write({ ...ctx, type: 'registration.initial_access_token_created', target: { type: 'initial_access_token', id: initialAccessTokenId(token) }, details: { expires_in: expiresIn } });
      return { initial_access_token: token, expires_in: expiresIn };
    },
  };
}
