import type { Redis } from 'ioredis';
import { createChangeChannel } from '../cache/change-channel.ts';
import type { ChangeSubscriber } from '../cache/change-subscriber.ts';
import { ConflictError, invalid } from '../errors/gatehouse-error.ts';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { insertValidated, upsertValidated } from '../storage/validated-writes.ts';
import { topClaim } from './claim-path.ts';
import type { ClaimScopeModel, StoredClaimScope, StoredMapper } from './model.ts';
import type { ImportedFrom } from '../accounts/user-model.ts';
import { toMapper, type ClaimMapper, type ClaimScope, type ClaimScopeInput, type ClaimScopePatch } from './spec.ts';

/** Without Redis notices, another instance's change reaches this one within this time. */
const POLL_MS = 2_000;
/** With Redis notices: a bound on how long a lost notice can leave this instance behind. */
const NOTICED_MS = 60_000;

interface WarnLogger {
  warn(obj: object, msg: string): void;
}

export function claimScopeChangesChannel(redisPrefix: string): string {
  return `${redisPrefix}claim-scopes:changed`;
}

export interface ClaimScopes {
  /**
   * Every claim scope, from this instance's copy: what the provider is built with (the token paths
   * never read the store for them). Sorted by name. Do not modify.
   */
  current(): readonly ClaimScope[];
  /**
   * Called after the copy changed (the provider is rebuilt with it: src/composition/provider.ts);
   * a write here resolves once its listeners have, so this instance serves the change when the
   * operator gets the answer.
   */
  onChange(listener: () => Promise<void> | void): void;
  /** From the store. */
  list(): Promise<ClaimScope[]>;
  get(name: string): Promise<ClaimScope | undefined>;
  /** `mark`: a Keycloak import's (importedFrom). */
  create(input: ClaimScopeInput, mark?: ImportedFrom): Promise<ClaimScope>;
  /** Undefined when there is no such scope. `mark`: a Keycloak import's, set with the patch; absent, the stored one is kept. */
  update(name: string, patch: ClaimScopePatch, mark?: ImportedFrom): Promise<ClaimScope | undefined>;
  remove(name: string): Promise<boolean>;
  /**
   * Claim scopes as an export file holds them (src/transfer/claim-scopes-section.ts), each created
   * or replaced whole — mappers, import mark (absent: none), dates — and announced once. The caller
   * has checked that no claim is then held by two scopes (the per-write check would refuse a swap
   * of claims between two scopes half-way). By name: created or updated.
   */
  restoreAll(scopes: readonly ClaimScope[]): Promise<Map<string, 'created' | 'updated'>>;
  /** Reads the store again now (tests; a cache flush). */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export interface ClaimScopesDeps {
  readonly model: ClaimScopeModel;
  readonly redis: Redis | undefined;
  readonly redisPrefix: string;
  readonly logger: WarnLogger;
  /** The server's subscriber connection; a CLI command has none (it announces its changes and listens to none, and does not poll). */
  readonly subscriber?: ChangeSubscriber | undefined;
  /** Whether this process keeps its copy current by itself (the server); a command reads once. */
  readonly watch: boolean;
  readonly now?: () => Date;
}

function toMapperInForce({ introspection, ...mapper }: StoredMapper): ClaimMapper {
  return { ...mapper, introspection: introspection ?? mapper.accessToken };
}

function toScope(doc: StoredClaimScope): ClaimScope {
  const from = doc.importedFrom == null ? {} : { importedFrom: { kind: doc.importedFrom.kind, realm: doc.importedFrom.realm } };
  return { name: doc._id, description: doc.description ?? {}, mappers: (doc.mappers ?? []).map(toMapperInForce), ...from, createdAt: doc.createdAt, updatedAt: doc.updatedAt };
}

export class ClaimScopeConflictError extends ConflictError {
  constructor(name: string) {
    super('claim_scope_exists', { scope: name }, 'name');
  }
}

/**
 * Claim names are unique across scopes: the library releases a claim by name for any scope that
 * lists it, so one name in two scopes would give either scope's value to a client granted the other.
 * A nested claim's name is its top one (`org` for `org.unit`): one scope's mappers may fill one
 * object, two scopes may not share it.
 */
function refuseTakenClaims(scopes: readonly ClaimScope[], name: string, mappers: readonly { claim: string }[]): void {
  for (const [index, mapper] of mappers.entries()) {
    const top = topClaim(mapper.claim);
    const holder = scopes.find((scope) => scope.name !== name && scope.mappers.some((other) => topClaim(other.claim) === top));
    if (holder !== undefined) throw invalid(`mappers.${index}.claim`, 'claim_taken', { scope: holder.name });
  }
}

export async function openClaimScopes({ model, redis, redisPrefix, logger, subscriber, watch, now = () => new Date() }: ClaimScopesDeps): Promise<ClaimScopes> {
  const channel = redis === undefined ? undefined : createChangeChannel({ redis, channel: claimScopeChangesChannel(redisPrefix), logger, subscriber });
  const noticed = subscriber !== undefined && channel !== undefined;
  const listeners: Array<() => Promise<void> | void> = [];
  let copy: readonly ClaimScope[] = [];
  let fingerprint = '';

  const readAll = async () => (await model.find().sort({ _id: 1 }).lean<StoredClaimScope[]>().exec()).map(toScope);

  async function reload(): Promise<void> {
    const scopes = await readAll();
    const next = JSON.stringify(scopes.map(({ name, description, mappers }) => [name, description, mappers]));
    if (next === fingerprint) return;
    fingerprint = next;
    copy = Object.freeze(scopes);
    for (const listener of listeners) await listener();
  }
  const reloadQuietly = () => {
    reload().catch((error: unknown) => logger.warn({ err: error }, 'claim scopes could not be reread; serving the ones in force'));
  };

  await reload();
  const subscription = noticed ? await channel.subscribe(reloadQuietly, reloadQuietly) : undefined;
  const poll = watch ? setInterval(reloadQuietly, noticed ? NOTICED_MS : POLL_MS) : undefined;
  poll?.unref();

  /** Applied here at once and announced to the other instances, whatever the write's outcome. */
  async function announcing<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      await reload().catch(() => undefined);
      await channel?.publish('all');
    }
  }

  return {
    current: () => copy,
    onChange: (listener) => void listeners.push(listener),
    list: readAll,
    async get(name) {
      const doc = await model.findById(name).lean<StoredClaimScope>().exec();
      return doc === null ? undefined : toScope(doc);
    },
    create: (input, mark) =>
      announcing(async () => {
        const mappers = input.mappers.map(toMapper);
        refuseTakenClaims(await readAll(), input.name, mappers);
        const at = now();
        const doc: StoredClaimScope = { _id: input.name, description: input.description, mappers, ...(mark === undefined ? {} : { importedFrom: { kind: mark.kind, realm: mark.realm } }), createdAt: at, updatedAt: at };
        try {
          await insertValidated(model, doc);
        } catch (error) {
          if (isDuplicateKey(error)) throw new ClaimScopeConflictError(input.name);
          throw error;
        }
        return toScope(doc);
      }),
    update: (name, patch, mark) =>
      announcing(async () => {
        const set: Partial<StoredClaimScope> = { updatedAt: now() };
        if (mark !== undefined) set.importedFrom = { kind: mark.kind, realm: mark.realm };
        if (patch.description !== undefined) set.description = patch.description;
        if (patch.mappers !== undefined) {
          set.mappers = patch.mappers.map(toMapper);
          refuseTakenClaims(await readAll(), name, set.mappers);
        }
        const doc = await model.findOneAndUpdate({ _id: name }, { $set: set }, { returnDocument: 'after' }).lean<StoredClaimScope>().exec();
        return doc === null ? undefined : toScope(doc);
      }),
    remove: (name) => announcing(async () => (await model.deleteOne({ _id: name }).exec()).deletedCount === 1),
    restoreAll: (scopes) =>
      announcing(async () => {
        const outcomes = new Map<string, 'created' | 'updated'>();
        for (const scope of scopes) {
          const doc: StoredClaimScope = {
            _id: scope.name,
            description: { ...scope.description },
            mappers: scope.mappers.map((mapper) => ({ ...mapper })),
            ...(scope.importedFrom === undefined ? {} : { importedFrom: { kind: scope.importedFrom.kind, realm: scope.importedFrom.realm } }),
            createdAt: scope.createdAt,
            updatedAt: scope.updatedAt,
          };
          outcomes.set(scope.name, (await upsertValidated(model, doc)) ? 'created' : 'updated');
        }
        return outcomes;
      }),
    reload,
    async close() {
      clearInterval(poll);
      await subscription?.close();
    },
  };
}
