/** The MongoDB-wire error for a unique index that already holds the key (E11000), from the driver or mongoose. */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}
