import type { GatehouseServices } from '../services.ts';
import { refuseNulCharacters } from '../errors/nul-characters.ts';
import { exportAll, importAll } from '../transfer/export-file.ts';
import type { OperationContext } from './context.ts';

/** Export and import of everything an operator manages (audited as export.created / import.applied). */
export function transferOperations(services: GatehouseServices, issuer: string) {
  return {
    /** `encrypted`: whether the file it goes into is sealed with a passphrase (said in the audit event). */
    async export(ctx: OperationContext, { encrypted }: { encrypted: boolean }) {
      const document = await exportAll(services, issuer);
      await services.audit.write({ ...ctx, type: 'export.created', details: { clients: document.clients.length, users: document.users.length, encrypted } });
      return document;
    },
    async import(ctx: OperationContext, document: unknown, { encrypted }: { encrypted: boolean }) {
      refuseNulCharacters(document);
      const summary = await importAll(services, document, issuer);
      await services.audit.write({ ...ctx, type: 'import.applied', details: { ...summary, encrypted } });
      return summary;
    },
  };
}
