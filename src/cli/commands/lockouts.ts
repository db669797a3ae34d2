import { CliError } from '../cli-error.ts';
import { command } from '../command-line.ts';
import type { FlagsOf } from '../flag-errors.ts';
import { cliActor, withOperations } from '../services.ts';

/** The body's fields said as flags, for errors (src/cli/flag-errors.ts): a bad address names --ip. */
export const LOCKOUT_FLAGS: FlagsOf = { ip: '--ip' };

/**
 * `lockouts clear --ip ADDRESS`: lifts the lockout of an address locked as a whole (scope ip; an
 * IPv6 address lifts its /64), through the admin API's POST /lockouts/clear {ip} — same checks,
 * same `lockout.cleared` audit event. A user's lockouts are lifted with `users unlock USER`.
 */
export const lockoutsClear = command({ options: { ip: { type: 'string' } } }, async (ctx, { values }) => {
  if (values.ip === undefined) throw new CliError('--ip is required: the address (IPv4, IPv6, or the /64 block as the lockout list shows it) whose lockout to lift; a user\'s lockouts: gatehouse users unlock USER', 2);
  const ip = values.ip;
  const lifted = await withOperations(ctx, (ops) => ops.lockouts.clear(cliActor(), { ip }));
  ctx.out(ctx.json ? JSON.stringify({ ip, lifted }) : lifted === 0 ? `${ip} was not locked out` : `lifted the lockout of ${ip}`);
});
