import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { AdapterFactory } from 'oidc-provider';
import type { Accounts } from './accounts/accounts.ts';
import { startAccountLayer } from './accounts/setup.ts';
import { createUserAdmin, type UserAdmin } from './accounts/user-admin.ts';
import type { UserChangeHook } from './accounts/user-changes.ts';
import { userModel } from './accounts/user-model.ts';
import { apiModel } from './apis/model.ts';
import { createApiRegistry, type ApiRegistry } from './apis/registry.ts';
import type { ClientRepository } from './clients/repository.ts';
import type { Config } from './config/load.ts';
import { auditModel, createAuditLog, ensureAuditIndexes, type AuditLog } from './observability/audit-log.ts';
import type { Logger } from './observability/logger.ts';
import type { Factors } from './mfa/factors.ts';
import { createPasskeys, type PasskeyEvent, type Passkeys } from './mfa/passkeys.ts';
import { openFactors } from './mfa/setup.ts';
import { createLabelDirectory, type LabelDirectory } from './roles/directory.ts';
import { labelModel } from './roles/model.ts';
import { createOidcRevocation, type OidcRevocation } from './storage/oidc/revocation.ts';

/** The services behind a running instance; the admin API and the CLI use the same ones. */
export interface GatehouseServices {
  readonly accounts: Accounts;
  readonly users: UserAdmin;
  readonly clients: ClientRepository;
  readonly apis: ApiRegistry;
  readonly roles: LabelDirectory;
  readonly groups: LabelDirectory;
  readonly audit: AuditLog;
  readonly revocation: OidcRevocation;
  /** Users' second factors (TOTP, recovery codes). */
  readonly factors: Factors;
  /** Users' passkeys (WebAuthn credentials). */
  readonly passkeys: Passkeys;
  /** The API identifier whose tokens open the admin API (scope `admin`). */
  readonly adminAudience: string;
}

export interface ServicesDeps {
  readonly config: Config;
  readonly mongo: Connection;
  readonly redis: Redis | undefined;
  readonly logger: Logger;
  readonly clients: ClientRepository;
  /** oidc-provider's storage (src/oidc/storage.ts or the CLI's own adapter factory). */
  readonly adapter: AdapterFactory;
  /** For the server: an already started account layer (it feeds sign-in too), built with the same onUserChange. */
  readonly accounts?: Accounts;
  /** For the server: its second-factor service (audited, on its clock); built here otherwise. */
  readonly factors?: Factors;
  /** For the server: where passkey registrations, uses and failures are audited. */
  readonly onPasskeyEvent?: (event: PasskeyEvent) => void;
  /** Runs after every write to a user (src/oidc/account-cache.ts). */
  readonly onUserChange: UserChangeHook;
}

/** The admin API's URL, which is also the audience of its tokens. */
export function adminAudience(config: Pick<Config, 'issuer' | 'routes'>): string {
  return `${new URL(config.issuer).origin}${config.routes.admin}`;
}

/** Builds the shared services over open connections; `close` stops what it started. */
export async function createServices(deps: ServicesDeps): Promise<{ services: GatehouseServices; close(): Promise<void> }> {
  const { config, mongo, redis, logger } = deps;
  const users = userModel(mongo);
  const audit = auditModel(mongo);
  await ensureAuditIndexes(audit);
  let accounts = deps.accounts;
  let factors = deps.factors;
  let close = async () => {};
  if (accounts === undefined || factors === undefined) {
    const layer = await startAccountLayer({ config, mongo, redis, logger, onUserChange: deps.onUserChange });
    accounts ??= layer.accounts;
    factors ??= await openFactors({ mongo, secret: config.secret.reveal(), limiter: layer.limiter });
    close = () => layer.close();
  }
  const services: GatehouseServices = {
    accounts,
    users: createUserAdmin({ users, onChange: deps.onUserChange }),
    clients: deps.clients,
    apis: createApiRegistry({ model: apiModel(mongo) }),
    roles: createLabelDirectory({ kind: 'role', model: labelModel(mongo, 'role'), users, onUserChange: deps.onUserChange }),
    groups: createLabelDirectory({ kind: 'group', model: labelModel(mongo, 'group'), users, onUserChange: deps.onUserChange }),
    audit: createAuditLog({ model: audit }),
    factors,
    passkeys: await createPasskeys({
      connection: mongo,
      issuer: config.issuer,
      rpName: config.pages.brandName,
      ...(deps.onPasskeyEvent ? { onEvent: deps.onPasskeyEvent } : {}),
    }),
    revocation: createOidcRevocation({ mongo, redis, redisPrefix: config.redisPrefix, adapter: deps.adapter }),
    adminAudience: adminAudience(config),
  };
  return { services, close };
}
