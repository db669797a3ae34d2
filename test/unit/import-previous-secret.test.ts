import { expect } from 'chai';
import { ZodError } from 'zod';
import type { GatehouseServices } from '../../src/services.ts';
import { checkExport, EXPORT_FORMAT, importAll } from '../../src/transfer/export-file.ts';

const NOW = new Date('2026-12-02T12:00:00.000Z');
const DAY_MS = 86_400_000;

/** A Gatehouse export of one confidential client whose previous secret's grace ends at `expiresAt`. */
function exportWithGraceUntil(expiresAt: Date): Record<string, unknown> {
  const empty = { apis: [], roles: [], groups: [], users: [], second_factors: [], passkeys: [], consents: [], keycloak_realms: [] };
  const client = {
    clientId: 'billing',
    displayName: 'Billing',
    firstParty: true,
    allowedApis: [],
    webOrigins: [],
    admin: false,
    metadata: { grant_types: ['client_credentials'], redirect_uris: [] },
    secret: 'the-current-secret',
    previousSecret: { secret: 'the-old-secret', expiresAt: expiresAt.toISOString() },
    createdAt: '2026-12-01T12:00:00.000Z',
    updatedAt: '2026-12-01T12:00:00.000Z',
  };
  return { format: EXPORT_FORMAT, version: 1, admin_audience: 'https://old.example/admin/api/v1', ...empty, clients: [client] };
}

function refusals(check: () => unknown): string[] {
  try {
    check();
    return [];
  } catch (error) {
    if (!(error instanceof ZodError)) throw error;
    return error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  }
}

/**
 * A rotation keeps the old secret for at most 30 days (MAX_SECRET_GRACE_SECONDS); an export
 * carries it with its end. An edited file could give it years: the import refuses a grace that
 * ends later than 30 days after the import, naming the field, before anything is written.
 */
describe('gatehouse import: a previous client secret whose grace ends more than 30 days after the import is refused (dry run and import)', () => {
  it('the check refuses 30 days and a second later, naming clients.0.previousSecret.expiresAt and the latest end allowed', () => {
    const latest = new Date(NOW.getTime() + 30 * DAY_MS);
    expect(refusals(() => checkExport(exportWithGraceUntil(new Date(latest.getTime() + 1000)), NOW))).to.deep.equal([`clients.0.previousSecret.expiresAt: must be at most ${latest.toISOString()}`]);
    expect(refusals(() => checkExport(exportWithGraceUntil(new Date(NOW.getTime() + 3650 * DAY_MS)), NOW))).to.have.length(1);
  });

  it('takes a grace ending within 30 days of the import, or already over (the import drops it)', () => {
    expect(refusals(() => checkExport(exportWithGraceUntil(new Date(NOW.getTime() + 30 * DAY_MS)), NOW))).to.deep.equal([]);
    expect(refusals(() => checkExport(exportWithGraceUntil(new Date(NOW.getTime() - DAY_MS)), NOW))).to.deep.equal([]);
  });

  it("the import judges by Gatehouse's clock and refuses before it reads or writes anything", async () => {
    const touched: string[] = [];
    const clock = { now: () => NOW.getTime() };
    const services = new Proxy({}, { get: (_, name) => (name === 'clock' ? clock : touched.push(String(name))) }) as unknown as GatehouseServices;
    const refused = await importAll(services, exportWithGraceUntil(new Date(NOW.getTime() + 31 * DAY_MS)), 'https://new.example').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(ZodError);
    expect((refused as ZodError).issues.map((issue) => issue.path.join('.'))).to.deep.equal(['clients.0.previousSecret.expiresAt']);
    expect(touched).to.deep.equal([]);
  });
});
