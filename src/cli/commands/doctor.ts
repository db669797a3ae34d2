import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../config/load.ts';
import { healthy, runDoctor, type Check, type DoctorOptions, type TemporaryClient } from '../../doctor/checks.ts';
import type { Operations } from '../../operations/index.ts';
import { CliError, openContext, type CliContext, type CliIo } from '../context.ts';
import { shown } from '../help.ts';
import { cliActor, withOperations } from '../services.ts';

const SCOPE = 'doctor';

/** The temporary API and client, made through the same operations as the admin API (audited). */
function temporaryClient(ops: Operations): NonNullable<DoctorOptions['temporaryClient']> {
  const suffix = randomBytes(6).toString('hex');
  const api = `https://doctor-${suffix}.gatehouse.invalid`;
  let clientId: string | undefined;
  let apiMade = false;
  return {
    async create(): Promise<TemporaryClient> {
      await ops.apis.create(cliActor(), { identifier: api, name: 'gatehouse doctor (temporary)', scopes: [SCOPE], format: 'jwt', access_token_ttl: 60 });
      apiMade = true;
      const created = await ops.clients.create(cliActor(), { name: `gatehouse doctor ${suffix} (temporary)`, grant_types: ['client_credentials'], apis: [api] });
      clientId = created.client.clientId;
      return { clientId, secret: created.secret!, api, scope: SCOPE };
    },
    async remove(): Promise<void> {
      // Deleting the client revokes its tokens; then its API goes.
      if (clientId !== undefined) await ops.clients.delete(cliActor(), clientId);
      if (apiMade) await ops.apis.delete(cliActor(), api);
    },
  };
}

function print(ctx: Pick<CliContext, 'json' | 'out'>, issuer: string, checks: readonly Check[]): void {
  if (ctx.json) {
    ctx.out(JSON.stringify({ issuer, ok: healthy(checks), checks }));
    return;
  }
  ctx.out(`gatehouse doctor ${issuer}`);
  const width = Math.max(...checks.map((check) => check.name.length));
  for (const check of checks) ctx.out(`  ${check.status.padEnd(7)} ${check.name.padEnd(width)}  ${check.detail}`);
  const failed = checks.filter((check) => check.status === 'fail').length;
  ctx.out(failed === 0 ? 'no problems found' : `${failed} problem${failed === 1 ? '' : 's'} found`);
}

/**
 * `gatehouse doctor ISSUER`: checks a running deployment end to end from the outside (discovery,
 * keys, readiness) and, with the deployment's settings at hand (MONGODB_URI, GATEHOUSE_SECRET, as
 * for every command), a whole token life with a temporary client that is removed afterwards.
 * Without the settings the flow is skipped and says why. Exit code 1 when a check failed.
 */
export async function doctorCommand(io: CliIo, issuer: string | undefined, json: boolean): Promise<number> {
  if (issuer === undefined) throw new CliError('usage: gatehouse doctor ISSUER_URL [--json] (e.g. gatehouse doctor https://sso.example.com)', 2);
  if (!/^https?:$/.test(URL.parse(issuer)?.protocol ?? '')) {
    // `localhost:3000` parses as a URL with the scheme `localhost:`: say what to type instead.
    const guess = URL.parse(`http://${issuer}`);
    const hint = !issuer.includes('://') && guess !== null && guess.hostname !== '' ? `; did you mean ${shown(guess.href.replace(/\/$/, ''))}?` : '';
    throw new CliError(`doctor: ISSUER_URL must be an http:// or https:// URL, e.g. https://sso.example.com (got '${shown(issuer)}'${hint})`, 2);
  }
  const out = { json, out: (text: string) => io.stdout(`${text}\n`) };
  let ctx: CliContext | undefined;
  let unavailable: string | undefined;
  try {
    ctx = openContext(io, json);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    unavailable = `skipped: a temporary client needs the deployment's settings (${error.problems.join('; ')})`;
  }
  const base: DoctorOptions = { issuer, fetch: globalThis.fetch };
  let checks: Check[];
  if (ctx === undefined) checks = await runDoctor({ ...base, temporaryClient: { unavailable: unavailable! } });
  else {
    const config = ctx.config;
    const readinessUrl = new URL(config.routes.readyz, new URL(issuer).origin).toString();
    const mismatch: Check[] =
      config.issuer === issuer.replace(/\/+$/, '')
        ? []
        : [{ name: 'settings', status: 'warn', detail: `these settings are for ${config.issuer}: the temporary client is made in that deployment's database, so a token request at ${issuer} fails if it is another deployment` }];
    try {
      checks = await withOperations(ctx, (ops) => runDoctor({ ...base, readinessUrl, temporaryClient: temporaryClient(ops) }));
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      checks = await runDoctor({ ...base, readinessUrl, temporaryClient: { unavailable: `skipped: the deployment's stores cannot be reached from here (${why})` } });
    }
    checks = [...mismatch, ...checks];
  }
  print(out, issuer, checks);
  return healthy(checks) ? 0 : 1;
}
