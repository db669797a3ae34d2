import type { GatehouseServices } from '../services.ts';
import { exportAll, importAll } from '../transfer/export-file.ts';
import type { OperationContext } from './context.ts';
import { asOperationError } from './errors.ts';

/** Export and import of everything an operator manages (audited as export.created / import.applied). */
export function transferOperations(services: GatehouseServices, issuer: string) {
  return {
    async export(ctx: OperationContext) {
      const document = await exportAll(services, issuer);
      await services.audit.write({ ...ctx, type: 'export.created', details: { clients: document.clients.length, users: document.users.length } });
      return document;
    },
    async import(ctx: OperationContext, document: unknown) {
      let summary: Awaited<ReturnType<typeof importAll>>;
      try {
        summary = await importAll(services, document);
      } catch (error) {
        throw asOperationError(error);
      }
      await services.audit.write({ ...ctx, type: 'import.applied', details: summary });
      return summary;
    },
  };
}
