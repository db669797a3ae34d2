import { fromStoreCall } from '../../errors/store-unavailable.ts';

export type StoreName = 'mongodb' | 'redis';

export interface OperationReport {
  readonly model: string;
  readonly store: StoreName;
  readonly operation: string;
  readonly durationMs: number;
}

/** Called once per adapter operation, after it settles (success or failure). Must not throw. */
export type OperationHook = (report: OperationReport) => void;

/**
 * Runs one storage operation and reports its duration to the hook. Its failure is read knowing
 * which store it called (fromStoreCall): a socket error the driver let through unwrapped is that
 * store's outage even when nothing in the error names the store.
 */
export async function timed<T>(
  hook: OperationHook | undefined,
  model: string,
  store: StoreName,
  operation: string,
  run: () => Promise<T>,
): Promise<T> {
  const started = hook === undefined ? 0 : performance.now();
  try {
    return await run();
  } catch (error) {
    throw fromStoreCall(store, error);
  } finally {
    hook?.({ model, store, operation, durationMs: performance.now() - started });
  }
}
