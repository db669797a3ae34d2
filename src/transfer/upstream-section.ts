import { z } from 'zod';
import { says } from '../errors/problems.ts';
import type { UpstreamDirectory, UpstreamProvider } from '../upstream/directory.ts';
import { claimMappingSchema, upstreamCreateSchema, upstreamProblems, upstreamUpdateSchema, UPSTREAM_KINDS } from '../upstream/spec.ts';
import { date, importMark, type ConflictSink } from './sections.ts';

/**
 * The `upstream_providers` and `upstream_links` sections of an export file. A provider is its
 * settings as the admin API names them, its client secret and private key (JWK) opened for the
 * file as clients' secrets are (null: none) — sealed again by the import under the target's
 * GATEHOUSE_SECRET —, its Keycloak import mark and its dates. A link is a user's upstream identity
 * (`sub` at the provider), with its dates.
 */
export async function exportedProviders(directory: Pick<UpstreamDirectory, 'list' | 'credentials'>) {
  const providers = await directory.list();
  return Promise.all(providers.map(async (provider) => exportedProvider(provider, await directory.credentials(provider.alias))));
}

function exportedProvider(provider: UpstreamProvider, credentials: Awaited<ReturnType<UpstreamDirectory['credentials']>>) {
  const { has_secret: _secret, has_private_key: _key, imported_from: mark, created_at, updated_at, ...settings } = provider;
  return {
    ...settings,
    client_secret: credentials.clientSecret ?? null,
    private_key_jwk: credentials.privateKeyJwk ?? null,
    ...(mark === undefined ? {} : { imported_from: { kind: mark.kind, realm: mark.realm } }),
    created_at: created_at.toISOString(),
    updated_at: updated_at.toISOString(),
  };
}

const { client_secret: secret, private_key_jwk: privateKey, ...updatable } = upstreamUpdateSchema.required().shape;

const providerEntry = z
  .strictObject({
    ...updatable,
    alias: upstreamCreateSchema.shape.alias,
    kind: z.enum(UPSTREAM_KINDS),
    claims: claimMappingSchema,
    client_secret: secret.nullable(),
    private_key_jwk: privateKey.nullable(),
    imported_from: importMark.optional(),
    created_at: date,
    updated_at: date,
  })
  .superRefine((provider, ctx) => {
    // What the admin API requires of every provider across its fields (probe25: a file's oidc
    // provider without openid, or an enabled one without the secret or key its method needs, was
    // taken). A disabled one may lack them: a Keycloak import makes it so when the realm's export
    // masks the secret (its operator gives it one, then enables it), and its backup must restore.
    const secretsOptional = !provider.enabled;
    for (const { field, code, params } of upstreamProblems(provider, { hasSecret: secretsOptional || provider.client_secret !== null, hasKey: secretsOptional || provider.private_key_jwk !== null })) {
      ctx.addIssue({ code: 'custom', path: [field], ...says(code, params) });
    }
  });

/** The providers' section: aliases unique. */
export const upstreamProvidersSection = z.array(providerEntry).superRefine((providers, ctx) => {
  const aliases = new Set<string>();
  providers.forEach((provider, index) => {
    if (aliases.has(provider.alias)) ctx.addIssue({ code: 'custom', path: [index, 'alias'], ...says('upstream_exists', { alias: provider.alias }) });
    aliases.add(provider.alias);
  });
});

export const upstreamLinksSection = z.array(
  z.strictObject({
    provider: upstreamCreateSchema.shape.alias,
    subject: z.string().min(1).max(1000),
    userId: z.string().min(1),
    label: z.string().nullable(),
    createdAt: date,
    lastSignInAt: date.nullable(),
  }),
);

export type ImportedProvider = z.output<typeof providerEntry>;
export type ImportedLink = z.output<typeof upstreamLinksSection>[number];

/** Each provider created, or replaced whole (the file is a full backup, trusted as one, as its clients are); the links to it here stay. */
export async function restoreProviders(directory: Pick<UpstreamDirectory, 'restore'>, providers: readonly ImportedProvider[]) {
  const counts = { created: 0, updated: 0 };
  for (const { client_secret, private_key_jwk, imported_from, created_at, updated_at, ...settings } of providers) {
    const outcome = await directory.restore({
      ...settings,
      clientSecret: client_secret,
      privateKeyJwk: private_key_jwk,
      ...(imported_from === undefined ? {} : { importedFrom: imported_from }),
      createdAt: new Date(created_at),
      updatedAt: new Date(updated_at),
    });
    counts[outcome] += 1;
  }
  return counts;
}

/**
 * The links of the file's users to the file's providers (as consents go with the file's users and
 * clients). An upstream identity linked to another user here stays theirs: a conflict, reported.
 */
export async function restoreLinks(directory: Pick<UpstreamDirectory, 'restoreLink'>, links: readonly ImportedLink[], users: ReadonlySet<string>, providers: ReadonlySet<string>, conflict: ConflictSink) {
  const counts = { created: 0, unchanged: 0, conflicts: 0 };
  for (const link of links) {
    if (!users.has(link.userId) || !providers.has(link.provider)) continue;
    const outcome = await directory.restoreLink({ ...link, createdAt: new Date(link.createdAt), lastSignInAt: link.lastSignInAt === null ? null : new Date(link.lastSignInAt) });
    if (outcome === 'conflict') {
      counts.conflicts += 1;
      conflict({ kind: 'upstream link', name: `${link.provider} ${link.subject}`, reason: `this upstream identity is linked to another user here: left as it is (user ${link.userId} is not linked to it)` });
    } else counts[outcome] += 1;
  }
  return counts;
}
