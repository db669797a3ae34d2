import type { GatehouseServices } from '../services.ts';
import { refuseUnstorableText } from '../errors/nul-characters.ts';
import { exportAll, importAll, type ExportCounts, type ExportTarget } from '../transfer/export-file.ts';
import type { OperationContext } from './context.ts';
import { settingsChecks } from './settings-checks.ts';

/** Export and import of everything an operator manages (audited as export.created / import.applied). */
export function transferOperations(services: GatehouseServices, issuer: string) {
  return {
    /** Writes the export to `target` as it is read; `target.encrypted` (sealed with a passphrase) is said in the audit event, once it is written. */
    async export(ctx: OperationContext, target: ExportTarget): Promise<ExportCounts> {
      const counts = await exportAll(services, issuer, target);
      await services.audit.write({ ...ctx, type: 'export.created', details: { clients: counts.clients, users: counts.users, encrypted: target.encrypted } });
      return counts;
    },
    async import(ctx: OperationContext, document: unknown, { encrypted }: { encrypted: boolean }) {
      refuseUnstorableText(document);
      // The file's runtime settings are checked as the admin API checks a change (roles and groups named must exist).
      const summary = await importAll(services, document, issuer, settingsChecks);
      await services.audit.write({ ...ctx, type: 'import.applied', details: { ...summary, encrypted } });
      return summary;
    },
  };
}
