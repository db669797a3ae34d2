import { createSecretBox } from '../../crypto/secret-box.ts';
import { createKeyStore, keyStatus } from '../../keys/key-store.ts';
import { keySetModel } from '../../keys/model.ts';
import { CliError, type CliContext } from '../context.ts';

export async function keysList(ctx: CliContext): Promise<void> {
  const store = createKeyStore({ model: keySetModel(ctx.mongo), box: createSecretBox(ctx.config.secret.reveal(), 'keys') });
  const set = await store.load();
  if (set === undefined) throw new CliError('no keys yet: start the server once to create them');
  const now = new Date();
  const rows = set.signingKeys.map((key) => ({
    kid: key.kid,
    alg: key.alg,
    status: keyStatus(key, now),
    created_at: key.createdAt.toISOString(),
    activate_at: key.activateAt.toISOString(),
    retire_at: key.retireAt?.toISOString() ?? null,
    remove_at: key.removeAt?.toISOString() ?? null,
  }));
  if (ctx.json) {
    ctx.out(JSON.stringify({ version: set.version, keys: rows }));
    return;
  }
  for (const row of rows) ctx.out(`${row.kid}  ${row.alg}  ${row.status}  since ${row.activate_at}`);
}
