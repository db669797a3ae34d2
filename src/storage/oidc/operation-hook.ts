export type StoreName = 'mongodb' | 'redis';

export interface OperationReport {
  readonly model: string;
  readonly store: StoreName;
  readonly operation: string;
  readonly durationMs: number;
}

/** Called once per adapter operation, after it settles (success or failure). Must not throw. */
export type OperationHook = (report: OperationReport) => void;

/** Runs one storage operation and reports its duration to the hook. */
export async function timed<T>(
  hook: OperationHook | undefined,
  model: string,
  store: StoreName,
  operation: string,
  run: () => Promise<T>,
): Promise<T> {
  if (hook === undefined) return run();
  const started = performance.now();
  try {
    return await run();
  } finally {
    hook({ model, store, operation, durationMs: performance.now() - started });
  }
}
