import { expect } from 'chai';
import { ZodError } from 'zod';
import type { GatehouseServices } from '../../src/services.ts';
import { checkExport, EXPORT_FORMAT, importAll } from '../../src/transfer/export-file.ts';

/** A Gatehouse export holding nothing but what a test puts in. */
function exportOf(members: Record<string, unknown>): Record<string, unknown> {
  const empty = { apis: [], roles: [], groups: [], clients: [], users: [], second_factors: [], passkeys: [], consents: [], keycloak_realms: [] };
  return { format: EXPORT_FORMAT, version: 1, admin_audience: 'https://old.example/admin/api/v1', ...empty, ...members };
}

/** `levels` groups, each the only subgroup of the one before (as a Keycloak realm's context keeps them). */
function nestedGroups(levels: number): unknown[] {
  let groups: unknown[] = [];
  for (let level = levels; level >= 1; level -= 1) groups = [{ name: `g${level}`, path: `/g${level}`, realmRoles: ['member'], clientRoles: { app: ['reader'] }, subGroups: groups }];
  return groups;
}

/** An array nested `levels` deep, built without recursion. */
function nestedArrays(levels: number): unknown {
  let value: unknown = [];
  for (let level = 1; level < levels; level += 1) value = [value];
  return value;
}

const realm = (members: Record<string, unknown>) => ({ realm: 'acme', defaultRole: 'default-roles-acme', roles: { realm: [], client: {} }, groups: [], clients: [], aliases: {}, updatedAt: '2026-12-01T12:00:00.000Z', ...members });

const client = (metadata: Record<string, unknown>) => ({
  clientId: 'app',
  displayName: 'App',
  firstParty: true,
  allowedApis: [],
  webOrigins: [],
  admin: false,
  metadata: { redirect_uris: ['https://app.example/cb'], ...metadata },
  secret: null,
  createdAt: '2026-12-01T12:00:00.000Z',
  updatedAt: '2026-12-01T12:00:00.000Z',
});

/** The paths and messages of the issues checkExport refused `document` with (none: it was accepted). */
function refusals(document: unknown): string[] {
  try {
    checkExport(document, new Date('2026-12-02T12:00:00.000Z'));
    return [];
  } catch (error) {
    if (!(error instanceof ZodError)) throw error;
    return error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  }
}

describe('gatehouse import: values nested deeper than any export holds are refused by the check (dry run and import alike)', () => {
  // A clear export could be anyone's. These passed --dry-run ("can be imported"), then the import
  // wrote everything before them and died with "unexpected error: Maximum call stack size exceeded"
  // (JSON.stringify of the realm's context, BSON of the client's metadata).
  it("refuses a Keycloak realm's context nested thousands of levels deep, naming it", () => {
    expect(refusals(exportOf({ keycloak_realms: [realm({ groups: nestedGroups(3000) })] }))).to.deep.equal(['keycloak_realms.0: nested more than 232 levels deep']);
    expect(refusals(exportOf({ keycloak_realms: [realm({ roles: { realm: [{ name: 'r', composites: { realm: nestedArrays(20_000) } }], client: {} } })] }))).to.deep.equal(['keycloak_realms.0: nested more than 232 levels deep']);
    expect(refusals(exportOf({ keycloak_realms: [realm({ groups: [{ name: 'g', realmRoles: nestedArrays(20_000) }] })] }))).to.deep.equal(['keycloak_realms.0: nested more than 232 levels deep']);
  });

  it("refuses a client's metadata nested deeper than any client's, naming it", () => {
    expect(refusals(exportOf({ clients: [client({ x: nestedArrays(3000) })] }))).to.deep.equal(['clients.0.metadata: nested more than 32 levels deep']);
  });

  it('takes what Gatehouse writes: groups as deep as a Keycloak import keeps (100 levels), a client with its jwks', () => {
    const jwks = { keys: [{ kty: 'RSA', kid: 'k1', n: 'AQAB', e: 'AQAB', x5c: ['MIIB'], key_ops: ['verify'] }] };
    expect(refusals(exportOf({ keycloak_realms: [realm({ groups: nestedGroups(100) })], clients: [client({ jwks })] }))).to.deep.equal([]);
  });

  it('the import refuses such a file before it reads or writes anything', async () => {
    const touched: string[] = [];
    const services = new Proxy({}, { get: (_, name) => touched.push(String(name)) }) as unknown as GatehouseServices;
    const document = exportOf({ roles: [{ name: 'written-first', description: '' }], keycloak_realms: [realm({ groups: nestedGroups(3000) })] });
    const refused = await importAll(services, document, 'https://new.example').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(ZodError);
    expect(touched).to.deep.equal([]);
  });
});
