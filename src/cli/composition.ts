import { closeStores, composeCore, openStores, type Core } from '../composition/core.ts';
import { createLogger } from '../observability/logger.ts';
import { createOperations, type Operations } from '../operations/index.ts';
import type { CliContext } from './context.ts';

/** What a command does with the data. */
export interface CommandUse {
  /**
   * False for a command that only reads (lists, shows): it creates no index and reads no index
   * mark (src/composition/core.ts). Default true: a command that writes, or might, is safe.
   */
  readonly writes?: boolean;
}

/**
 * Runs one command against the same composition the server runs (src/composition/core.ts, in
 * `command` mode: changes are announced to running servers over Redis when configured, no
 * background work) through the same operations as the admin API.
 */
export function withOperations<T>(ctx: CliContext, run: (ops: Operations) => Promise<T>, { writes = true }: CommandUse = {}): Promise<T> {
  return withCore(ctx, async (core) => {
    // The mail's modules (templates, SMTP) load only when GATEHOUSE_SMTP_URL is set.
    const mail = ctx.config.mail === undefined ? undefined : await (await import('./cli-mail.ts')).cliAccountMail(ctx, core, ctx.config.mail);
    try {
      return await run(createOperations({ services: core.services, keys: core.keys, issuer: ctx.config.issuer, emailConfigured: ctx.config.mail !== undefined, lifetimes: ctx.config.lifetimes, brandName: ctx.config.pages.brandName, verification: mail?.sender, invitations: mail?.invitations }));
    } finally {
      await mail?.finish();
    }
  }, { writes });
}

/** The composition itself, for scripts that seed data (scripts/dev-seed.ts); commands use withOperations. */
export async function withCore<T>(ctx: CliContext, run: (core: Core) => Promise<T>, { writes = true }: CommandUse = {}): Promise<T> {
  const stores = await openStores(ctx.config);
  try {
    const core = await composeCore(ctx.config, createLogger('silent'), stores, { mode: 'command', writes });
    try {
      return await run(core);
    } finally {
      await core.close();
    }
  } finally {
    await closeStores(stores);
  }
}
