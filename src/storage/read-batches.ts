/** Documents read from the database at a time by an export: what it holds beside the file is bounded by this, not by the collection. */
export const EXPORT_BATCH = 500;

/**
 * A cursor's documents a batch at a time (the last one may be shorter): for work done per batch
 * rather than per document, such as one lookup for a batch's users.
 */
export async function* readBatches<T>(documents: AsyncIterable<T>, size = EXPORT_BATCH): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const document of documents) {
    batch.push(document);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
