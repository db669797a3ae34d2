import type { mongo } from 'mongoose';

/**
 * Whether the MongoDB-wire server is FerretDB v1 (it answers `buildInfo` with its own
 * `ferretdbVersion`). FerretDB v1 pushes only simple top-level equality down to its backend and
 * never a sort by default, and even then compares with a JSON containment its expression indexes
 * cannot serve (docs/PERFORMANCE.md, fifth round, shows the plans): an index that exists only
 * for such queries costs every write and serves no read there.
 */
export async function isFerretDbV1(db: mongo.Db): Promise<boolean> {
  try {
    return ferretDbV1(await db.admin().command({ buildInfo: 1 }));
  } catch {
    return false;
  }
}

export function ferretDbV1(buildInfo: Readonly<Record<string, unknown>>): boolean {
  const version = buildInfo.ferretdbVersion;
  return typeof version === 'string' && /^v?1\./.test(version);
}
